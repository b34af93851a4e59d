// A new account's time zone, from the browser (users.forms.SignUpForm): its
// dates then read in the person's time from the first page, not the site's.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    zone = "";
  }
  document.querySelectorAll("input[data-browser-time-zone]").forEach(function (input) {
    if (!input.value) {
      input.value = zone;
    }
  });
})();
