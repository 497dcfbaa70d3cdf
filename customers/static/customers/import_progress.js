// Background CSV import: polls the job's JSON endpoint, moves the bar, and shows the report when done.
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("import-job");
    if (!box) return;
    var bar = document.getElementById("import-progress-bar");
    var text = document.getElementById("import-progress-text");
    var status = document.getElementById("import-status");
    var every = parseInt(box.dataset.pollMs, 10) || 2000;
    var finished = false;
    function poll() {
      fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (p) {
          if (!p) return;
          bar.style.width = p.percent + "%";
          text.textContent = p.rows_done + " / " + (p.rows_expected || "?") + " rows (" + p.percent + "%) · " +
            p.failed + " failed";
          status.textContent = p.status_label;
          status.dataset.status = p.status;
          finished = p.finished;
          if (finished) window.location.reload();  // the page then shows the counts and the report
        })
        .catch(function () {})
        .finally(function () { if (!finished) setTimeout(poll, every); });
    }
    setTimeout(poll, every);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
