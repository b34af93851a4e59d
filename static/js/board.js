// Drag and drop on the board (tasks/templates/tasks/_board.html).
//
// A card dropped on another column submits the card's own "Move to" form with
// that column chosen: htmx posts it and swaps the board, exactly as the
// keyboard's way does (the select and its Move button). Without this file the
// form still works; the cards just cannot be dragged.
(function () {
  "use strict";

  var dragged = null;

  function columnOf(element) {
    return element && element.closest ? element.closest("[data-column]") : null;
  }

  function highlight(column, on) {
    if (column) {
      column.classList.toggle("ring-2", on);
      column.classList.toggle("ring-indigo-500", on);
    }
  }

  function moveTo(card, status) {
    var form = card.querySelector("form[data-move-form]");
    if (!form) {
      return;
    }
    form.querySelector("select[name=status]").value = status;
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-task-id][draggable=true]");
    if (!card) {
      return;
    }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-task-id"));
    card.classList.add("opacity-50");
  });

  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("opacity-50");
    }
    dragged = null;
    document.querySelectorAll("[data-column]").forEach(function (column) {
      highlight(column, false);
    });
  });

  document.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (dragged && column) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      highlight(column, true);
    }
  });

  document.addEventListener("dragleave", function (event) {
    var column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) {
      highlight(column, false);
    }
  });

  document.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column) {
      return;
    }
    event.preventDefault();
    highlight(column, false);
    var status = column.getAttribute("data-column");
    if (columnOf(dragged) !== column) {
      moveTo(dragged, status);
    }
  });
})();
