/* PMHub embeddable feedback form. Put it where the form should appear:
 * <script src="https://pmhub.example.com/static/discovery/feedback.js" data-pmhub-key="pmhf_..." defer></script>
 * It posts to the same server the script came from; the product's admin lists the sites allowed. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var key = script.getAttribute("data-pmhub-key");
  var endpoint = new URL("/api/public/v1/feedback/", script.src).href;
  var form = document.createElement("form");
  form.className = "pmhub-feedback";
  function field(tag, name, label, attrs) {
    var wrap = document.createElement("label");
    wrap.textContent = label;
    var input = document.createElement(tag);
    input.name = name;
    Object.keys(attrs || {}).forEach(function (k) { input.setAttribute(k, attrs[k]); });
    wrap.appendChild(input);
    form.appendChild(wrap);
    return wrap;
  }
  field("textarea", "text", "Your feedback", { required: "", maxlength: "20000", rows: "4" });
  field("input", "email", "E-mail (optional)", { type: "email", maxlength: "190" });
  field("input", "name", "Name (optional)", { maxlength: "160" });
  var trap = field("input", "website", "Leave this empty", { tabindex: "-1", autocomplete: "off" });
  trap.style.position = "absolute"; trap.style.left = "-9999px"; trap.setAttribute("aria-hidden", "true");
  var button = document.createElement("button");
  button.type = "submit"; button.textContent = "Send feedback";
  form.appendChild(button);
  var status = document.createElement("p");
  status.setAttribute("role", "status");
  form.appendChild(status);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = { key: key };
    new FormData(form).forEach(function (value, name) { data[name] = value; });
    button.disabled = true;
    fetch(endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) })
      .then(function (r) {
        status.textContent = r.status === 202 ? "Thank you: your feedback was received." :
          r.status === 429 ? "Too many messages from here; try again in a minute." : "Sorry, that did not work.";
        if (r.status === 202) { form.reset(); }
      })
      .catch(function () { status.textContent = "Sorry, that did not work."; })
      .finally(function () { button.disabled = false; });
  });
  script.parentNode.insertBefore(form, script);
})();
