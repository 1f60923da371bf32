// Catalog import progress (issue 7): polls the import's JSON until it is done, then reloads to show row errors.
(function () {
  "use strict";
  var root = document.querySelector("[data-import-url]");
  if (!root) { return; }
  function tick() {
    fetch(root.dataset.importUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        Object.keys(d).forEach(function (k) {
          var el = root.querySelector('[data-field="' + k + '"]');
          if (el) { el.textContent = d[k]; }
        });
        root.querySelector("progress").value = d.percent;
        if (d.status === "done" || d.status === "failed") { window.location.reload(); } else { setTimeout(tick, 1500); }
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 1500);
})();
