// Live progress of an import: polls its state every second and reloads into the report
// when it is finished. Without JavaScript the page refreshes itself (noscript meta).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) return;
  var url = box.getAttribute("data-url");
  var number = new Intl.NumberFormat();

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + (seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function set(name, text) {
    var el = box.querySelector('[data-field="' + name + '"]');
    if (el) el.textContent = text;
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.finished) { window.location.reload(); return; }
        var bar = box.querySelector("progress");
        bar.value = state.progress;
        bar.textContent = Math.round(state.progress * 100) + "%";
        set("status_label", state.status_label);
        set("phase", state.phase);
        set("processed_rows", number.format(state.processed_rows));
        set("total_rows", state.total_rows ? "about " + number.format(state.total_rows) : "…");
        set("rate", state.rate ? number.format(state.rate) : "—");
        set("seconds_left", duration(state.seconds_left));
        set("rejected_rows", number.format(state.rejected_rows));
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
