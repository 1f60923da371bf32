// The composer's reply-window line: "Reply window closes in 3 h 12 min", refreshed every 30 seconds.
// Self-contained (templates/inbox/index.html renders <p class="composer-window" data-closes-at="ISO time">).
(function () {
  "use strict";

  function describe(milliseconds) {
    const minutes = Math.floor(milliseconds / 60000);
    if (minutes < 1) return "less than a minute";
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    const rest = minutes % 60;
    if (days > 0) return days + " d " + hours + " h";
    if (hours > 0) return hours + " h " + rest + " min";
    return rest + " min";
  }

  function update(line) {
    const closesAt = Date.parse(line.dataset.closesAt);
    if (Number.isNaN(closesAt)) return;
    const label = line.dataset.extended ? "Human-agent window" : "Reply window";
    const left = closesAt - Date.now();
    if (left <= 0) {
      line.textContent = label + " has closed: wait for the customer to write again.";
      line.classList.add("closing");
      return;
    }
    line.textContent = label + " closes in " + describe(left);
    line.title = new Date(closesAt).toLocaleString();
    line.classList.toggle("closing", left < 60 * 60 * 1000);
  }

  function updateAll() {
    document.querySelectorAll(".composer-window[data-closes-at]").forEach(update);
  }

  updateAll();
  setInterval(updateAll, 30000);
})();
