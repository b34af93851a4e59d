// The list's filters behind a button on phones (tasks/_filters.html).
//
// Without this file the filters stay open at every width. With it, a phone
// shows "Search and filters" instead, unless a filter is on or has an error,
// so the first task is on the first screen.
(function () {
  "use strict";

  function fold(button, form, open) {
    form.classList.toggle("max-sm:hidden", !open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function setUp(button) {
    var form = document.getElementById(button.getAttribute("aria-controls"));
    if (!form) {
      return;
    }
    button.classList.remove("hidden");
    fold(button, form, form.hasAttribute("data-filters-open"));
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      fold(button, form, open);
      if (open) {
        var search = form.querySelector("input[type=search], input[name=q]");
        if (search) {
          search.focus();
        }
      }
    });
  }

  document.querySelectorAll("[data-filters-toggle]").forEach(setUp);
})();
