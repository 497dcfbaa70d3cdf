// The trigger follows the campaign's kind: a one-off send is "Sent by staff", lifecycle
// campaigns start on entering the audience or on an event. The server checks the same rule.
(function () {
  "use strict";
  function start() {
    var kind = document.getElementById("id_kind");
    var trigger = document.getElementById("id_trigger");
    if (!kind || !trigger || !trigger.dataset.triggersByKind) return;
    var allowedByKind = JSON.parse(trigger.dataset.triggersByKind);
    var all = Array.prototype.map.call(trigger.options, function (o) { return [o.value, o.text]; });
    function apply() {
      var allowed = allowedByKind[kind.value];
      if (!allowed) return;
      var current = trigger.value;
      trigger.innerHTML = "";
      all.forEach(function (pair) {
        if (allowed.indexOf(pair[0]) === -1) return;
        var option = document.createElement("option");
        option.value = pair[0];
        option.text = pair[1];
        trigger.add(option);
      });
      trigger.value = allowed.indexOf(current) === -1 ? allowed[0] : current;
      // A one-off send has no holdout (the server stores 0 whatever is posted).
      var holdout = document.getElementById("id_holdout_percent");
      if (holdout) {
        var oneOff = kind.value === "one_off";
        if (oneOff) holdout.value = "0";
        holdout.readOnly = oneOff;
      }
    }
    kind.addEventListener("change", apply);
    apply();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
