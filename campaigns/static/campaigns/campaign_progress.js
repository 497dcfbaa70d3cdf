// Live sending progress on the campaign page: polls the admin's JSON endpoint while mail is going out.
// Every figure and sentence comes formatted from the server; this only puts them in place.
(function () {
  "use strict";
  var NAMES = ["queued", "waiting", "sending", "sent", "unknown", "suppressed", "failed", "skipped"];
  function number(n) { return Number(n).toLocaleString("en-US"); }
  function start() {
    var box = document.getElementById("campaign-progress");
    if (!box) return;
    var bar = document.getElementById("progress-bar");
    var text = document.getElementById("progress-text");
    var waits = document.getElementById("progress-waits");
    var status = document.getElementById("campaign-status");
    var every = parseInt(box.dataset.pollMs, 10) || 2000;
    function poll() {
      fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (p) {
          if (!p) return;
          bar.style.width = p.percent + "%";
          text.textContent = p.summary;
          NAMES.forEach(function (name) {
            var cell = document.getElementById("progress-" + name);
            if (cell) cell.textContent = number(p[name]);
          });
          waits.replaceChildren.apply(waits, p.waits.map(function (w) {
            var item = document.createElement("li");
            item.textContent = number(w.count) + " waiting: " + w.reason + ", " + w.until;
            return item;
          }));
          document.getElementById("progress-eta-words").textContent = p.eta_words;
          document.getElementById("progress-rate").textContent = p.rate_per_second;
          box.dataset.active = p.active ? "1" : "0";
          box.dataset.polls = String((parseInt(box.dataset.polls, 10) || 0) + 1);
          if (status && p.status_label) status.textContent = p.status_label;
        })
        .catch(function () {})
        .finally(function () { setTimeout(poll, every); });
    }
    setTimeout(poll, every);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
