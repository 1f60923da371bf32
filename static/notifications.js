// New-message alerts for the signed-in agent: an opt-in browser notification and a short sound (issue 10).
// The preferences come from <body data-notifications data-sound> (saved at /settings/preferences/). The sound is
// synthesized with WebAudio, so no audio file ships; browsers only allow audio after a user gesture, so the
// audio context is unlocked on the first click or key press.
(function () {
  "use strict";
  const body = document.body;
  let audio = null;

  function context() {
    const Ctor = window.AudioContext || window.webkitAudioContext;
    if (!Ctor) return null;
    if (!audio) audio = new Ctor();
    return audio;
  }
  function unlock() {
    const ctx = context();
    if (ctx && ctx.state === "suspended") ctx.resume();
  }
  document.addEventListener("pointerdown", unlock, { once: true });
  document.addEventListener("keydown", unlock, { once: true });

  // Two soft rising tones (~0.25 s): noticeable during a shift without being alarming.
  function playSound() {
    const ctx = context();
    if (!ctx || ctx.state !== "running") return false;
    const start = ctx.currentTime;
    [660, 880].forEach(function (frequency, index) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      const at = start + index * 0.12;
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.12);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.13);
    });
    body.dataset.lastSound = String(Date.now());  // lets the browser tests see that the sound played
    return true;
  }

  function canNotify() {
    return "Notification" in window && Notification.permission === "granted" && body.dataset.notifications === "1";
  }

  // quiet: the message is in the conversation the agent is looking at, in a visible tab: no alert needed.
  function newMessage(options) {
    if (options.quiet) return;
    if (body.dataset.sound === "1") playSound();
    if (canNotify()) {
      const notification = new Notification(options.title, { body: options.body.slice(0, 140), tag: options.tag });
      notification.addEventListener("click", function () {
        window.focus();
        location.href = options.url;
        notification.close();
      });
    }
  }

  window.SwitchboardNotify = { newMessage: newMessage, playSound: playSound, unlock: unlock };
})();
