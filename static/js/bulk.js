// The change of many tasks at once (tasks/_task_table.html): the form shows
// only while rows are ticked, and says how many. Rows swapped by htmx come
// back unticked, so the count is taken again after each swap.
(function () {
  "use strict";

  var form = document.getElementById("bulk-form");
  var bar = form && form.closest("[data-bulk]");
  if (!bar) {
    return;
  }
  var count = form.querySelector("[data-bulk-count]");
  var clear = form.querySelector("[data-bulk-clear]");

  function boxes() {
    return document.querySelectorAll("input[type=checkbox][form=bulk-form]");
  }

  function ticked() {
    return Array.prototype.filter.call(boxes(), function (box) {
      return box.checked;
    }).length;
  }

  function update() {
    var number = ticked();
    bar.hidden = number === 0;
    count.textContent = number === 1 ? "1 task selected" : number + " tasks selected";
  }

  document.addEventListener("change", function (event) {
    if (event.target.form === form) {
      update();
    }
  });
  document.body.addEventListener("htmx:afterSwap", update);
  clear.hidden = false;
  clear.addEventListener("click", function () {
    var first = boxes()[0];
    boxes().forEach(function (box) {
      box.checked = false;
    });
    update();
    if (first) {
      first.focus();
    }
  });
  update();
})();
