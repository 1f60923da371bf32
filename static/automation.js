// Auto-reply rules page: switches without a reload, drag to reorder (POST of the new order), and keyboard
// up/down buttons that work as plain forms without JavaScript too.
(function () {
  "use strict";
  const table = document.querySelector(".rules-table");
  if (!table) return;
  const tbody = table.querySelector("tbody");
  const status = document.getElementById("reorder-status");
  const csrf = () => (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";

  function say(text) { if (status) status.textContent = text; }

  function refreshMoveButtons() {
    const rows = Array.from(tbody.querySelectorAll("tr.rule-row"));
    rows.forEach((row, i) => {
      row.querySelector("button[value=up]").disabled = i === 0;
      row.querySelector("button[value=down]").disabled = i === rows.length - 1;
    });
  }

  async function saveOrder() {
    const order = Array.from(tbody.querySelectorAll("tr.rule-row")).map((r) => Number(r.dataset.ruleId));
    try {
      const response = await fetch(table.dataset.reorderUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
        body: JSON.stringify({ order }),
      });
      const data = await response.json();
      say(response.ok ? gettext("Order saved.") : (data.error || gettext("The order could not be saved; reload the page.")));
    } catch (e) {
      say("The order could not be saved; check your connection and reload the page.");
    }
    refreshMoveButtons();
  }

  // Switches: POST the form in the background and flip the switch.
  table.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.classList.contains("toggle-form") && !form.classList.contains("move-form")) return;
    event.preventDefault();
    if (form.classList.contains("move-form")) {
      const direction = event.submitter ? event.submitter.value : "up";
      const row = form.closest("tr");
      const sibling = direction === "up" ? row.previousElementSibling : row.nextElementSibling;
      if (!sibling) return;
      if (direction === "up") tbody.insertBefore(row, sibling); else tbody.insertBefore(sibling, row);
      const button = row.querySelector(`button[value=${direction}]`);
      await saveOrder();
      if (button && !button.disabled) button.focus(); else row.querySelector("button.move:not([disabled])")?.focus();
      return;
    }
    const input = form.querySelector("input[name=enabled]");
    const button = form.querySelector("button.switch");
    const response = await fetch(form.action, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() },
      body: new FormData(form),
    });
    if (!response.ok) { say("The rule could not be switched; reload the page."); return; }
    const data = await response.json();
    button.setAttribute("aria-checked", data.enabled ? "true" : "false");
    button.querySelector(".switch-label").textContent = data.enabled ? "On" : "Off";
    input.value = data.enabled ? "0" : "1";
    say(`Switched ${data.enabled ? "on" : "off"}.`);
  });

  // Drag and drop of rows.
  let dragged = null;
  tbody.addEventListener("dragstart", (event) => {
    dragged = event.target.closest("tr.rule-row");
    if (dragged) { dragged.classList.add("dragging"); event.dataTransfer.effectAllowed = "move"; }
  });
  tbody.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const over = event.target.closest("tr.rule-row");
    if (!over || over === dragged) return;
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    tbody.insertBefore(dragged, after ? over.nextSibling : over);
  });
  tbody.addEventListener("dragend", () => {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    dragged = null;
    saveOrder();
  });
})();
