// The HubSpot panel in the conversation sidebar (integrations.crm). Include in a page:
//   <div data-crm-panel-src="{% url 'crm:contact-panel' contact_id %}"></div>
//   <script src="{% static 'crm-panel.js' %}" defer></script>
// The placeholder is filled with the fragment (owner, lifecycle stage); its Refresh button pulls from HubSpot and
// swaps the fragment in place instead of navigating to it. Call window.crmPanelLoad(root) after replacing the
// sidebar's HTML (e.g. when the agent opens another conversation without a page load).
(function () {
  async function swap(target, url, init) {
    const response = await fetch(url, { credentials: "same-origin", ...init });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const fresh = holder.querySelector(".crm-panel");
    if (fresh) target.replaceChildren(fresh);
  }

  function load(root = document) {
    root.querySelectorAll("[data-crm-panel-src]").forEach((placeholder) => {
      swap(placeholder, placeholder.dataset.crmPanelSrc).catch(() => {
        placeholder.textContent = gettext("HubSpot details are unavailable right now.");
      });
    });
  }
  window.crmPanelLoad = load;

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-crm-panel-refresh]");
    if (!form) return;
    event.preventDefault();
    const holder = form.closest("[data-crm-panel-src]") || form.closest(".crm-panel").parentElement;
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    try {
      await swap(holder, form.action, { method: "POST", body: new FormData(form) });
    } catch (error) {
      if (button) button.disabled = false;
      form.insertAdjacentHTML("afterend", `<p class="error" role="alert">${interpolate(gettext("Could not refresh (%s)."), [error.message])}</p>`);
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => load());
  else load();
})();
