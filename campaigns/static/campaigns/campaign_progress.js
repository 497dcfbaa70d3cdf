// Live sending progress on the campaign page: polls the admin's JSON endpoint while mail is going out.
(function () {
  "use strict";
  function words(seconds) {
    if (seconds === null) return "—";
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h ? h + "h " + m + "m" : m ? m + "m " + s + "s" : s + "s";
  }
  function start() {
    var box = document.getElementById("campaign-progress");
    if (!box) return;
    var bar = document.getElementById("progress-bar");
    var text = document.getElementById("progress-text");
    var status = document.getElementById("campaign-status");
    var every = parseInt(box.dataset.pollMs, 10) || 2000;
    function poll() {
      fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (p) {
          if (!p) return;
          bar.style.width = p.percent + "%";
          text.textContent = p.done + " / " + p.total + " done (" + p.percent + "%) · " + p.sent + " sent, " +
            p.failed + " failed, " + p.queued + " queued · " + p.rate_per_second + "/s · ETA " + words(p.eta_seconds);
          box.dataset.active = p.active ? "1" : "0";
          box.dataset.polls = String((parseInt(box.dataset.polls, 10) || 0) + 1);
          if (status && p.status) status.textContent = p.status.charAt(0).toUpperCase() + p.status.slice(1);
        })
        .catch(function () {})
        .finally(function () { setTimeout(poll, every); });
    }
    setTimeout(poll, every);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
