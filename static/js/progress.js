// Shared by the pages that follow a background job (imports, KPI recomputes): polls the
// job's JSON state every second and hands it to the page, which fills the elements of the
// progress box marked data-field="…"; reloads when the job is finished, or gone, or the
// user was signed out, so the page then shows the outcome. Without JavaScript those pages
// refresh themselves (noscript meta).
window.pulseFollow = function (boxId, update) {
  "use strict";
  var box = document.getElementById(boxId);
  if (!box) return;
  var url = box.getAttribute("data-url");

  function set(name, text) {
    var el = box.querySelector('[data-field="' + name + '"]');
    if (el) el.textContent = text;
  }

  function showProgress(progress) {
    var percent = Math.round(progress * 100) + "%";
    var bar = box.querySelector("progress");
    bar.value = progress;
    bar.textContent = percent;
    set("percent", percent);
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
        showProgress(state.progress);
        set("status_label", state.status_label);
        update(state, set);
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
};
