// Progress of a KPI recompute (KPIs done of the total), with progress.js; the page reloads
// when it is done, so the new values and their "computed at" show.
window.pulseFollow("kpi-recompute", function (state, set) {
  "use strict";
  set("kpis_done", state.kpis_done);
  if (state.kpis_total) set("kpis_total", state.kpis_total);
  set("waiting", state.status === "queued" ? " · waiting for a worker" : "");
});
