// Segment count while editing a campaign: choosing another segment shows how many customers it matches now.
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("campaign-audience");
    var select = document.getElementById("id_segment");
    if (!box || !select) return;
    function show() {
      if (!select.value) { box.textContent = "No segment: choose one to see its audience."; return; }
      fetch(box.dataset.url + "?segment=" + encodeURIComponent(select.value), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          var label = select.options[select.selectedIndex].text;
          box.textContent = data.count === null ? "Segment “" + label + "” has invalid rules."
            : "Segment “" + label + "” matches " + data.count + " customer" + (data.count === 1 ? "" : "s") + " now.";
        })
        .catch(function () {});
    }
    select.addEventListener("change", show);
    show();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
