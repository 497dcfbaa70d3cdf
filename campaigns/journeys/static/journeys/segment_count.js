// Live audience size beside the rules field of the segment form.
(function () {
  "use strict";
  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function countUrl() {
    const parts = window.location.pathname.split("/segment/");
    return parts[0] + "/segment/count/";
  }
  document.addEventListener("DOMContentLoaded", function () {
    const field = document.getElementById("id_rules");
    if (!field) return;
    const out = document.createElement("p");
    out.id = "segment-live-count";
    out.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", out);
    let timer = null;
    async function refresh() {
      let rules;
      try {
        rules = JSON.parse(field.value || "{}");
      } catch (e) {
        out.textContent = "Rules are not valid JSON yet.";
        return;
      }
      const response = await fetch(countUrl(), {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
        body: JSON.stringify({ rules: rules }),
      });
      const data = await response.json();
      out.textContent = data.errors
        ? "Problems: " + data.errors.join("; ")
        : data.count + " customers match, " + data.mailable + " of them mailable under the consent policy";
    }
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
    refresh();
  });
})();
