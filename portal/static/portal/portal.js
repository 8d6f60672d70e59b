/* The portal's own script (docs/portal.md): loaded as a file (the CSP runs no inline script).
   Forms: an <input data-follow-location> takes the current address after htmx changes it.
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
  // A form's `next` (the language switch) follows the address htmx pushed (a search typed, a facet chosen).
  function followLocation() {
    document.querySelectorAll("input[data-follow-location]").forEach(function (input) {
      input.value = window.location.pathname + window.location.search;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:pushedIntoHistory", followLocation);
  document.addEventListener("htmx:replacedInHistory", followLocation);
  document.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
})();
