// @mention suggestions in the comment box (tasks/_comments.html).
//
// Typing @ and the start of a name asks the server (htmx, tasks:mentions) for
// the people who can see the task; they appear in a listbox under the box. The
// text box stays where the keyboard is, as in an ARIA combobox: it names the
// listbox (aria-controls, aria-autocomplete="list") and its active option
// (aria-activedescendant). Down and Up move, Enter or Tab inserts @username,
// Escape closes; a click inserts too. A polite live region says how many
// people match. Without this file, typing @username in full does the same.
(function () {
  "use strict";

  // The @name being typed just before the caret (not part of an address).
  var TYPING = /(^|[^\w@.+-])@([\w.+-]*)$/;

  function enhance(listbox) {
    var input = document.getElementById(listbox.getAttribute("data-mentions-for"));
    var status = document.getElementById(listbox.getAttribute("data-mentions-status"));
    if (!input || listbox.hasAttribute("data-mentions-ready")) {
      return;
    }
    listbox.setAttribute("data-mentions-ready", "");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listbox.id);
    var query = null;
    var active = -1;

    function options() {
      return Array.prototype.slice.call(listbox.querySelectorAll('[role="option"]'));
    }

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }

    function activate(index) {
      var all = options();
      active = all.length ? (index + all.length) % all.length : -1;
      all.forEach(function (option, at) {
        option.setAttribute("aria-selected", at === active ? "true" : "false");
      });
      if (active >= 0) {
        input.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function close() {
      query = null;
      listbox.hidden = true;
      listbox.textContent = "";
      activate(-1);
    }

    function typed() {
      var before = input.value.slice(0, input.selectionStart);
      var found = TYPING.exec(before);
      return found ? found[2] : null;
    }

    function suggest() {
      var now = typed();
      if (now === null) {
        if (query !== null) {
          close();
        }
        return;
      }
      if (now !== query) {
        query = now;
        htmx.trigger(listbox, "mention-query");
      }
    }

    function choose(option) {
      var caret = input.selectionStart;
      var before = input.value.slice(0, caret);
      var start = before.lastIndexOf("@");
      var inserted = "@" + option.getAttribute("data-username") + " ";
      input.value = before.slice(0, start) + inserted + input.value.slice(caret);
      var end = start + inserted.length;
      input.setSelectionRange(end, end);
      close();
      say(option.textContent.replace(/\s+/g, " ").trim() + " will be notified.");
      input.focus();
    }

    listbox.addEventListener("htmx:configRequest", function (event) {
      event.detail.parameters.q = query || "";
    });
    listbox.addEventListener("htmx:afterSwap", function () {
      if (query === null) {
        close();
        return;
      }
      var count = options().length;
      listbox.hidden = count === 0;
      activate(0);
      say(
        count === 0
          ? "Nobody who can see this task matches."
          : count + (count === 1 ? " person matches" : " people match") +
              ". Up and down arrows to choose, Enter to insert."
      );
    });
    listbox.addEventListener("mousedown", function (event) {
      event.preventDefault(); // keep the focus (and the caret) in the box
      var option = event.target.closest('[role="option"]');
      if (option) {
        choose(option);
      }
    });

    input.addEventListener("input", suggest);
    input.addEventListener("click", suggest);
    input.addEventListener("blur", close);
    input.addEventListener("keydown", function (event) {
      if (listbox.hidden) {
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        activate(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
        event.preventDefault();
        choose(options()[active]);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
  }

  // At load, and each time htmx swaps the comments section in again.
  if (window.htmx) {
    htmx.onLoad(function (element) {
      var found = element.querySelectorAll
        ? element.querySelectorAll("[data-mentions-for]")
        : [];
      Array.prototype.forEach.call(found, enhance);
      if (element.matches && element.matches("[data-mentions-for]")) {
        enhance(element);
      }
    });
  }
})();
