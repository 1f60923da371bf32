// The preferences page: asking for the notification permission happens here, on the agent's own click.
(function () {
  "use strict";
  const form = document.getElementById("preferences-form");
  if (!form) return;
  const texts = document.getElementById("preferences-texts").dataset;
  const status = document.getElementById("notification-permission");
  const checkbox = form.elements.notifications;

  function say(text) { status.textContent = text; status.hidden = !text; }

  checkbox.addEventListener("change", function () {
    if (!checkbox.checked) { say(""); return; }
    if (!("Notification" in window)) { say(texts.unsupported); return; }
    Notification.requestPermission().then(function (permission) {
      if (permission === "granted") say(texts.granted);
      else { say(texts.denied); }
    });
  });
  if (checkbox.checked && "Notification" in window && Notification.permission === "denied") say(texts.denied);

  document.getElementById("test-sound").addEventListener("click", function () {
    window.SwitchboardNotify.unlock();
    // resume() is asynchronous: play right after the context runs.
    setTimeout(window.SwitchboardNotify.playSound, 50);
  });
})();
