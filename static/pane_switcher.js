// Phone layout of the inbox (issue 10): one pane at a time, chosen with the switcher above the panes.
// Without this script (or on a wide screen, where CSS hides the switcher) every pane is shown as before.
(function () {
  "use strict";
  const workspace = document.querySelector(".inbox.workspace");
  const switcher = document.querySelector(".pane-switcher");
  if (!workspace || !switcher) return;

  function show(pane) {
    workspace.dataset.pane = pane;
    switcher.querySelectorAll("button[data-pane]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.dataset.pane === pane ? "true" : "false");
    });
  }

  switcher.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-pane]");
    if (button) show(button.dataset.pane);
  });
  // Opening a conversation (in place or by a page load) brings its thread forward; picking a view shows the list.
  document.addEventListener("click", function (event) {
    if (event.target.closest("#conversation-list a")) show("thread");
    else if (event.target.closest(".views-pane a[data-view-key]")) show("list");
  });
  show(workspace.classList.contains("has-current") ? "thread" : "list");
})();
