// The template picker of the composer: past WhatsApp's 24-hour window only an approved template can be sent.
// Templates come from the conversation's API (`composer.templates`); the reply goes to the same messages
// endpoint as a text reply, with `template: {name, language, parameters}` instead of `body`.
(function () {
  "use strict";
  const form = document.getElementById("template-composer");
  if (!form) return;
  const conversationId = form.dataset.conversationId;
  const select = document.getElementById("template-choice");
  const variables = document.getElementById("template-variables");
  const preview = document.getElementById("template-preview");
  const error = document.getElementById("template-error");
  const empty = document.getElementById("template-empty");
  let templates = [];

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function current() {
    return templates[Number(select.value)] || null;
  }

  function values() {
    return Array.from(variables.querySelectorAll("input")).map(function (input) { return input.value.trim(); });
  }

  function render() {
    const template = current();
    if (!template) { preview.textContent = ""; return; }
    const filled = values();
    preview.textContent = template.body_text.replace(/\{\{\s*(\d+)\s*\}\}/g, function (whole, n) {
      const value = filled[Number(n) - 1];
      return value ? value : whole;
    });
  }

  function buildInputs() {
    variables.replaceChildren();
    const template = current();
    const count = template ? template.parameter_count : 0;
    for (let n = 1; n <= count; n += 1) {
      const label = document.createElement("label");
      label.htmlFor = "template-var-" + n;
      label.textContent = "{{" + n + "}}";
      const input = document.createElement("input");
      input.id = "template-var-" + n;
      input.type = "text";
      input.required = true;
      input.maxLength = 1024;
      input.autocomplete = "off";
      input.addEventListener("input", render);
      variables.append(label, input);
    }
    render();
  }

  async function load() {
    const response = await fetch("/api/v1/conversations/" + conversationId + "/", { credentials: "same-origin" });
    if (!response.ok) { error.textContent = response.statusText; error.hidden = false; return; }
    const data = await response.json();
    templates = (data.composer && data.composer.templates) || [];
    select.replaceChildren();
    templates.forEach(function (template, index) {
      const option = document.createElement("option");
      option.value = String(index);
      option.textContent = template.name + " (" + template.language + ")";
      select.append(option);
    });
    empty.hidden = templates.length > 0;
    form.querySelector("button[type=submit]").disabled = templates.length === 0;
    buildInputs();
  }

  select.addEventListener("change", buildInputs);
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const template = current();
    if (!template) return;
    error.hidden = true;
    const response = await fetch("/api/v1/conversations/" + conversationId + "/messages/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ template: { name: template.name, language: template.language, parameters: values() } }),
    });
    if (response.ok) {
      variables.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      render();
      return;
    }
    let detail = response.statusText;
    try {
      const body = await response.json();
      const messages = body.template || body.body || body.detail || body;
      detail = Array.isArray(messages) ? messages.join(" ") : (typeof messages === "string" ? messages : JSON.stringify(messages));
    } catch (ignored) { /* keep the status text */ }
    error.textContent = detail;
    error.hidden = false;
  });
  load();
})();
