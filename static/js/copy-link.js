// The Copy button beside a link to copy (notifications/_calendar_feed.html).
//
// The button ships hidden: without this file (or without a clipboard) the link
// stays a read-only field to select and copy by hand. A polite status tells
// screen readers the link was copied.
(function () {
  "use strict";

  function enhance(button) {
    var input = document.getElementById(button.getAttribute("data-copy-link"));
    var status = document.querySelector(
      '[data-copy-status="' + button.getAttribute("data-copy-link") + '"]'
    );
    if (!input || !navigator.clipboard) {
      return;
    }
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(
        function () {
          if (status) {
            status.textContent = "Copied.";
          }
        },
        function () {
          input.select();
          if (status) {
            status.textContent = "Select the link and copy it.";
          }
        }
      );
    });
    button.hidden = false;
  }

  document.querySelectorAll("[data-copy-link]").forEach(enhance);
})();
