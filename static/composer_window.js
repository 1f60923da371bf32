// The composer's reply-window line: "Reply window closes in 3 h 12 min", refreshed every 30 seconds.
// Self-contained (templates/inbox/index.html renders <p class="composer-window" data-closes-at="ISO time">).
(function () {
  "use strict";

  function describe(milliseconds) {
    const minutes = Math.floor(milliseconds / 60000);
    if (minutes < 1) return gettext("less than a minute");
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    const rest = minutes % 60;
    if (days > 0) return interpolate(gettext("%(days)s d %(hours)s h"), { days: days, hours: hours }, true);
    if (hours > 0) return interpolate(gettext("%(hours)s h %(minutes)s min"), { hours: hours, minutes: rest }, true);
    return interpolate(gettext("%(minutes)s min"), { minutes: rest }, true);
  }

  function update(line) {
    const closesAt = Date.parse(line.dataset.closesAt);
    if (Number.isNaN(closesAt)) return;
    const left = closesAt - Date.now();
    if (left <= 0) {
      line.textContent = line.dataset.extended
        ? gettext("Human-agent window has closed: wait for the customer to write again.")
        : gettext("Reply window has closed: wait for the customer to write again.");
      line.classList.add("closing");
      return;
    }
    line.textContent = interpolate(
      line.dataset.extended ? gettext("Human-agent window closes in %s") : gettext("Reply window closes in %s"),
      [describe(left)]
    );
    line.title = new Date(closesAt).toLocaleString();
    line.classList.toggle("closing", left < 60 * 60 * 1000);
  }

  function updateAll() {
    document.querySelectorAll(".composer-window[data-closes-at]").forEach(update);
  }

  updateAll();
  setInterval(updateAll, 30000);
})();
