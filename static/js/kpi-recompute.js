// Progress of a KPI recompute: polls its state every second and reloads the page when it
// is done, so the new values and their "computed at" show. Without JavaScript the page
// refreshes itself (noscript meta).
(function () {
  "use strict";
  var box = document.getElementById("kpi-recompute");
  if (!box) return;
  var url = box.getAttribute("data-url");

  function set(name, text) {
    var el = box.querySelector('[data-field="' + name + '"]');
    if (el) el.textContent = text;
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (response.redirected || response.status === 403 || response.status === 404) return {finished: true};
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (state) {
        if (state.finished) { window.location.reload(); return; }
        var percent = Math.round(state.progress * 100) + "%";
        var bar = box.querySelector("progress");
        bar.value = state.progress;
        bar.textContent = percent;
        set("percent", percent);
        set("status_label", state.status_label);
        set("kpis_done", state.kpis_done);
        if (state.kpis_total) set("kpis_total", state.kpis_total);
        set("waiting", state.status === "queued" ? " · waiting for a worker" : "");
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
