/* Kanban board: drag a deal card onto another column to move it. The drop submits the
   card's own "Move to" form (htmx posts it and swaps the board), so dragging and the menu
   share one path; without JavaScript the menu still works as a plain form. */
(function () {
  "use strict";
  var dragged = null;

  function columnOf(node) {
    return node && node.closest ? node.closest(".board-column") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".board-column.drop-target").forEach(function (column) {
      column.classList.remove("drop-target");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column || column.dataset.stage === dragged.dataset.stage) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("drop-target")) {
      clearTargets();
      column.classList.add("drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column || column.dataset.stage === dragged.dataset.stage) return;
    event.preventDefault();
    var form = dragged.querySelector("form.move-to");
    var select = form && form.querySelector("select[name=stage]");
    clearTargets();
    if (!select) return;
    select.value = column.dataset.stage;
    if (select.value !== column.dataset.stage) return;
    dragged.classList.add("moving");
    form.requestSubmit();
  });

  function closeMoveDialog() {
    var dialog = document.getElementById("move-dialog");
    if (dialog) dialog.innerHTML = "";
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-close-move]")) closeMoveDialog();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMoveDialog();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "move-dialog") {
      var field = event.detail.target.querySelector("input:not([type=hidden]), select, textarea");
      if (field) field.focus();
    }
  });
})();
