// Live progress of an import (rows done, rate, time left), with progress.js.
(function () {
  "use strict";
  var number = new Intl.NumberFormat();

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + (seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  window.pulseFollow("import-progress", function (state, set) {
    set("phase", state.phase);
    set("processed_rows", number.format(state.processed_rows));
    set("total_rows", state.total_rows ? "about " + number.format(state.total_rows) : "…");
    set("rate", state.rate ? number.format(state.rate) : "—");
    set("seconds_left", duration(state.seconds_left));
    set("rejected_rows", number.format(state.rejected_rows));
  });
})();
