/* The portal's own script (docs/portal.md): loaded as a file (the CSP runs no inline script).
   Charts: <canvas data-chart="ID"> draws the Chart.js configuration held in the JSON data block
   <script type="application/json" id="ID"> (Django's json_script), when the page loaded Chart.js. */
(function () {
  "use strict";
  function drawCharts(root) {
    if (typeof window.Chart === "undefined") { return; }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) { return; }
      var block = document.getElementById(canvas.dataset.chart);
      if (!block) { return; }
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, JSON.parse(block.textContent));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
})();
