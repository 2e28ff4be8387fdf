/* Planning grid: live row and column sums while typing, with the difference of each row
   against its target and of the row targets against the parent. The page posts the plain
   form; without JavaScript the sums are those computed by the server when it was shown. */
(function () {
  "use strict";
  var grid = document.querySelector(".plan-grid");
  if (!grid) return;

  function number(node) {
    if (!node) return 0;
    var raw = node.value !== undefined ? node.value : node.dataset.value;
    var value = parseFloat(raw);
    return isNaN(value) ? 0 : value;
  }

  function money(value) {
    return value.toFixed(2);
  }

  function mark(node, difference) {
    node.classList.toggle("off", Math.abs(difference) >= 0.005);
  }

  function refresh() {
    var columns = {};
    var targetsSum = 0;
    var cellsSum = 0;
    grid.querySelectorAll("tbody tr").forEach(function (row) {
      var total = 0;
      var cells = row.querySelectorAll(".cell");
      cells.forEach(function (cell) {
        var value = number(cell);
        total += value;
        columns[cell.dataset.col] = (columns[cell.dataset.col] || 0) + value;
      });
      cellsSum += total;
      var target = row.querySelector(".row-target");
      if (target) targetsSum += number(target);
      var sum = row.querySelector(".row-sum");
      if (sum) sum.textContent = money(total);
      var diff = row.querySelector(".row-diff");
      if (diff && target && cells.length) {
        var difference = total - number(target);
        diff.textContent = money(difference);
        mark(diff, difference);
      }
    });
    grid.querySelectorAll(".col-sum").forEach(function (node) {
      var total = columns[node.dataset.col] || 0;
      node.textContent = money(total);
      var target = grid.querySelector('.col-target[data-col="' + node.dataset.col + '"]');
      if (target && target.dataset.value) mark(node, total - parseFloat(target.dataset.value));
    });
    var targets = grid.querySelector(".targets-sum");
    if (targets) {
      targets.textContent = money(targetsSum);
      mark(targets, targetsSum - parseFloat(grid.dataset.parent));
    }
    var cells = grid.querySelector(".cells-sum");
    if (cells) cells.textContent = money(cellsSum);
  }

  grid.addEventListener("input", refresh);
})();
