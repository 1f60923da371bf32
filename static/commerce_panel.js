// The orders & bookings panel beside a conversation (templates/commerce/_conversation_panel.html).
// Self-contained: loads the panel fragment into any [data-commerce-panel-src] element, and submits the panel's
// forms in place, replacing the panel with the server's re-rendered fragment (which carries the outcome,
// e.g. "Cannot send now: ..."). Without this script the forms still work as plain page posts.
(function () {
  "use strict";
  var HEADER = { "X-Requested-With": "commerce-panel" };

  function panelOf(node) { return node.closest("[data-commerce-panel]"); }

  function replacePanel(panel, html) {
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.querySelector("[data-commerce-panel]");
    if (!fresh) { return; }
    var openDetails = Array.prototype.map.call(panel.querySelectorAll("details[open] > summary"), function (s) { return s.textContent; });
    panel.replaceWith(fresh);
    fresh.querySelectorAll("details > summary").forEach(function (summary) {
      if (openDetails.indexOf(summary.textContent) !== -1) { summary.parentElement.open = true; }
    });
    var outcome = fresh.querySelector(".commerce-outcome");
    if (outcome && outcome.textContent.trim()) {
      outcome.setAttribute("tabindex", "-1");
      outcome.focus();
    }
    fresh.dispatchEvent(new CustomEvent("commerce:updated", { bubbles: true }));
  }

  function showError(panel, text) {
    var outcome = panel.querySelector(".commerce-outcome");
    if (!outcome) { return; }
    var p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    outcome.replaceChildren(p);
  }

  function request(panel, url, options) {
    panel.setAttribute("aria-busy", "true");
    return fetch(url, Object.assign({ credentials: "same-origin", headers: HEADER }, options || {}))
      .then(function (response) {
        return response.text().then(function (text) {
          if (response.status === 200 || response.status === 400) { replacePanel(panel, text); return; }
          showError(panel, response.status === 403 ? gettext("You may not do that.") : interpolate(gettext("Something went wrong (%s). Try again."), [response.status]));
        });
      })
      .catch(function () { showError(panel, gettext("Network error: check your connection and try again.")); })
      .finally(function () { panel.removeAttribute("aria-busy"); });
  }

  function load(slot) {
    var url = slot.getAttribute("data-commerce-panel-src");
    fetch(url, { credentials: "same-origin", headers: HEADER })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { slot.innerHTML = html; })
      .catch(function () { slot.innerHTML = '<p class="error" role="alert">Orders and bookings could not be loaded.</p>'; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-commerce-form]")) { return; }
    var panel = panelOf(form);
    if (!panel) { return; }
    event.preventDefault();
    var data = new FormData(form, event.submitter || undefined);
    // getAttribute: form.action would be the input named "action" of our forms, not the URL.
    var url = form.getAttribute("action");
    if ((form.getAttribute("method") || "get").toLowerCase() === "get") {
      request(panel, url + "?" + new URLSearchParams(data).toString());
      return;
    }
    var headers = Object.assign({ "X-CSRFToken": data.get("csrfmiddlewaretoken") || "" }, HEADER);
    request(panel, url, { method: "POST", body: data, headers: headers });
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-commerce-link]");
    if (!link) { return; }
    var panel = panelOf(link);
    if (!panel) { return; }
    event.preventDefault();
    request(panel, link.href);
  });

  function init() { document.querySelectorAll("[data-commerce-panel-src]").forEach(load); }
  window.SwitchboardCommerce = { load: load, init: init };
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
