// Keyboard shortcuts (the help is the dialog at the end of templates/base.html):
// n a new task, / the search, j and k the next and previous task of a list or
// a board, ? the help. Keys typed into a field stay the field's.
(function () {
  "use strict";

  var help = document.getElementById("shortcuts-help");

  function typing(target) {
    if (!target || !target.closest) {
      return false;
    }
    return Boolean(
      target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]")
    );
  }

  function taskLinks() {
    return Array.prototype.map.call(
      document.querySelectorAll("[data-task-id]"),
      function (item) {
        return item.querySelector("a[href]");
      }
    ).filter(Boolean);
  }

  function step(by) {
    var links = taskLinks();
    if (!links.length) {
      return;
    }
    var current = document.activeElement;
    var item = current && current.closest ? current.closest("[data-task-id]") : null;
    var index = item ? links.indexOf(item.querySelector("a[href]")) : -1;
    var next = index < 0 ? (by > 0 ? 0 : links.length - 1) : index + by;
    next = Math.max(0, Math.min(links.length - 1, next));
    links[next].focus();
    links[next].scrollIntoView({block: "nearest"});
  }

  function search() {
    var field = document.getElementById("id_q");
    if (!field) {
      window.location.assign("/");
      return;
    }
    var toggle = document.querySelector("[data-filters-toggle][aria-expanded=false]");
    if (toggle) {
      toggle.click();
    }
    field.focus();
    field.select();
  }

  function newTask() {
    var link = document.querySelector("a[data-shortcut=new]");
    var fallback = document.querySelector("[data-new-task]");
    var url = link ? link.href : fallback && fallback.getAttribute("data-new-task");
    if (url) {
      window.location.assign(url);
    }
  }

  function openHelp() {
    if (help && !help.open) {
      help.showModal();
    }
  }

  var actions = {
    "n": newTask,
    "/": search,
    "j": function () { step(1); },
    "k": function () { step(-1); },
    "?": openHelp
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (help && help.open) {
      return;
    }
    var action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.querySelectorAll("[data-shortcuts-open]").forEach(function (button) {
    button.classList.remove("hidden");
    button.addEventListener("click", openHelp);
  });
})();
