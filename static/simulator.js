// The customer simulator: writes as a customer through the sandbox provider and polls for the replies.
(function () {
  "use strict";
  const root = document.querySelector(".simulator");
  if (!root) return;
  const base = "/simulator/" + root.dataset.channelId + "/";
  const customer = root.dataset.customerId;
  const name = root.dataset.customerName;
  const thread = document.getElementById("sim-thread");
  const form = document.getElementById("sim-composer");
  const textarea = document.getElementById("sim-text");
  const error = document.getElementById("sim-error");

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function lastId() {
    const items = thread.querySelectorAll("[data-sim-id]");
    return items.length ? Number(items[items.length - 1].dataset.simId) : 0;
  }

  function append(message) {
    if (thread.querySelector('[data-sim-id="' + message.id + '"]')) return;
    const item = document.createElement("li");
    item.className = "message " + (message.side === "customer" ? "outbound" : "inbound");
    item.dataset.simId = message.id;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = message.text;
    item.appendChild(bubble);
    thread.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  async function poll() {
    try {
      const params = new URLSearchParams({ customer: customer, after: String(lastId()) });
      const response = await fetch(base + "messages?" + params, { credentials: "same-origin" });
      if (response.ok) (await response.json()).messages.forEach(append);
    } finally {
      setTimeout(poll, 1000);
    }
  }

  form.addEventListener("submit", async function (submit) {
    submit.preventDefault();
    const text = textarea.value.trim();
    if (!text) return;
    error.hidden = true;
    const response = await fetch(base + "send", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      body: new URLSearchParams({ customer: customer, name: name, text: text }),
    });
    if (!response.ok) {
      const data = await response.json().catch(function () { return {}; });
      error.textContent = data.error || gettext("The message could not be sent.");
      error.hidden = false;
      return;
    }
    textarea.value = "";
  });
  textarea.addEventListener("keydown", function (key) {
    if (key.key === "Enter" && !key.shiftKey) {
      key.preventDefault();
      form.requestSubmit();
    }
  });
  poll();
})();
