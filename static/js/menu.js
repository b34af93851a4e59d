// The header's menu below xl (templates/base.html): a disclosure button that
// shows and hides the secondary links. Escape closes it and gives the button
// the focus back; so does a click or the focus going anywhere else.
(function () {
  "use strict";

  var button = document.querySelector("[data-menu-button]");
  var menu = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) {
    return;
  }

  function isOpen() {
    return button.getAttribute("aria-expanded") === "true";
  }

  function show(open) {
    menu.hidden = !open;
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function inside(node) {
    return Boolean(node) && (menu.contains(node) || button.contains(node));
  }

  button.addEventListener("click", function () {
    show(!isOpen());
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) {
      show(false);
      button.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (isOpen() && !inside(event.target)) {
      show(false);
    }
  });
  menu.addEventListener("focusout", function (event) {
    if (isOpen() && event.relatedTarget && !inside(event.relatedTarget)) {
      show(false);
    }
  });
})();
