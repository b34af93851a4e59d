// Show/Hide buttons beside password fields (users/_field.html).
//
// The buttons ship hidden: without this file every field stays a plain password
// field. The button is a real <button>, so Enter and Space work; its name says
// what it will do ("Show password" / "Hide password") and a polite live region
// tells screen readers what happened, as the GOV.UK password input does.
(function () {
  "use strict";

  function show(button, input, visible) {
    var name = button.getAttribute("data-password-name") || "password";
    input.type = visible ? "text" : "password";
    button.textContent = visible ? "Hide" : "Show";
    button.setAttribute("aria-label", (visible ? "Hide " : "Show ") + name);
  }

  function announce(input, visible) {
    var status = document.querySelector(
      '[data-password-status="' + input.id + '"]'
    );
    if (status) {
      status.textContent = visible
        ? "Your password is visible."
        : "Your password is hidden.";
    }
  }

  function enhance(button) {
    var input = document.getElementById(button.getAttribute("data-password-toggle"));
    if (!input || input.type !== "password") {
      return;
    }
    button.addEventListener("click", function () {
      var visible = input.type === "password";
      show(button, input, visible);
      announce(input, visible);
    });
    if (input.form) {
      // Sent as a password field, so the browser never keeps it as plain text.
      input.form.addEventListener("submit", function () {
        show(button, input, false);
      });
    }
    button.classList.remove("hidden");
  }

  document.querySelectorAll("[data-password-toggle]").forEach(enhance);
})();
