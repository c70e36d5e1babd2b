// Selects the whole value of a field marked data-select-on-focus when it gets the focus
// (the new API key, shown once: one click and it is ready to copy). A file rather than an
// onfocus="…" attribute: the Content-Security-Policy runs no inline script or handler.
document.querySelectorAll("[data-select-on-focus]").forEach(function (field) {
  "use strict";
  field.addEventListener("focus", function () { field.select(); });
});
