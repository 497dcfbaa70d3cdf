/* Live preview of email templates in the admin: renders the unsaved form on the server
   (POST with the CSRF token) and shows it at desktop and mobile widths. No dependencies. */
(function () {
  "use strict";

  function chosenCustomer(root) {
    var idInput = root.querySelector(".preview-customer-id");
    var select = root.querySelector(".preview-customer");
    if (idInput && idInput.value) return idInput.value;
    return select ? select.value : "";
  }

  function syncPicker(root) {
    var select = root.querySelector(".preview-customer");
    var idInput = root.querySelector(".preview-customer-id");
    if (!select || !idInput) return;
    select.addEventListener("change", function () { idInput.value = select.value; });
    idInput.addEventListener("change", function () {
      var value = idInput.value;
      if (value && !select.querySelector('option[value="' + value + '"]')) {
        var option = document.createElement("option");
        option.value = value;
        option.textContent = "#" + value;
        select.appendChild(option);
      }
      select.value = value;
    });
  }

  function show(root, data) {
    var errors = root.querySelector(".preview-errors");
    errors.innerHTML = "";
    (data.errors || []).forEach(function (error) {
      var item = document.createElement("li");
      item.textContent = (error.field ? error.field + ", " : "") + error.message;
      errors.appendChild(item);
    });
    errors.hidden = !(data.errors && data.errors.length);
    if (!data.ok) return;
    root.querySelector(".preview-subject").textContent = data.subject;
    root.querySelector(".preview-preheader").textContent = data.preheader;
    root.querySelector(".preview-text").textContent = data.text;
    root.querySelectorAll(".preview-frame").forEach(function (frame) { frame.srcdoc = data.html; });
  }

  function livePreview(root) {
    var form = document.querySelector("#template_form");
    if (!form) return;
    var fields = ["subject", "preheader", "mjml"].map(function (name) { return form.querySelector("[name=" + name + "]"); });
    var token = form.querySelector("[name=csrfmiddlewaretoken]");
    var sendTestCustomer = root.querySelector(".send-test-customer");
    var timer = null;
    var sequence = 0;

    function render() {
      var body = new FormData();
      fields.forEach(function (field) { if (field) body.append(field.name, field.value); });
      body.append("customer", chosenCustomer(root));
      if (sendTestCustomer) sendTestCustomer.value = chosenCustomer(root);
      var mine = ++sequence;
      fetch(root.dataset.renderUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "" },
      })
        .then(function (response) { return response.json(); })
        .then(function (data) { if (mine === sequence) show(root, data); })
        .catch(function (error) { if (mine === sequence) show(root, { ok: false, errors: [{ message: String(error) }] }); });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(render, 500);
    }

    fields.forEach(function (field) { if (field) field.addEventListener("input", later); });
    root.querySelectorAll(".preview-customer, .preview-customer-id").forEach(function (el) {
      el.addEventListener("change", render);
    });
    render();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".preview-customer-picker").forEach(function (picker) { syncPicker(picker.parentNode); });
    var root = document.getElementById("template-live-preview");
    if (root) livePreview(root);
  });
})();
