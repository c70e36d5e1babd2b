// Survey authoring, progressive: the pages work without this file.
// - the question editor shows the "Options" box only for kinds that have options, and
//   offers "Move up" / "Move down" buttons (without scripts: the "Position" numbers);
// - the brand colour picker and its hex text stay in step;
// - a chosen logo file is previewed before it is uploaded.
(function () {
  "use strict";
  var NO_CHOICES = { text: true };

  document.querySelectorAll("[data-question]").forEach(function (row) {
    var kind = row.querySelector("select[name$='-kind']");
    var box = row.querySelector("[data-choices]");
    if (!kind || !box) return;
    var textarea = box.querySelector("textarea");
    function sync() {
      // Keep a box with text visible (its content would otherwise be dropped silently).
      box.hidden = NO_CHOICES[kind.value] === true && !(textarea && textarea.value.trim());
    }
    kind.addEventListener("change", sync);
    sync();
  });

  var list = document.getElementById("question-forms");
  if (list) {
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");
    list.after(status);

    var renumber = function () {
      list.querySelectorAll("[data-question]").forEach(function (row, index) {
        var order = row.querySelector("input[name$='-ORDER']");
        if (order) order.value = index + 1;
        var legend = row.querySelector("legend");
        if (legend && legend.firstChild && legend.firstChild.nodeType === Node.TEXT_NODE) {
          legend.firstChild.textContent = "Question " + (index + 1) + " ";
        }
      });
    };
    var move = function (row, up, button) {
      var other = up ? row.previousElementSibling : row.nextElementSibling;
      if (!other) return;
      if (up) list.insertBefore(row, other); else list.insertBefore(other, row);
      renumber();
      button.focus();
      var position = Array.prototype.indexOf.call(list.children, row) + 1;
      status.textContent = "Question moved to position " + position + ".";
    };
    list.querySelectorAll("[data-question]").forEach(function (row) {
      var tools = row.querySelector(".question-tools");
      if (!tools) return;
      var group = document.createElement("div");
      group.className = "button-row move-buttons";
      [["Move up", true], ["Move down", false]].forEach(function (spec) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button button-small";
        button.textContent = spec[0];
        button.addEventListener("click", function () { move(row, spec[1], button); });
        group.appendChild(button);
      });
      tools.appendChild(group);
    });
  }

  document.querySelectorAll("[data-color-pair]").forEach(function (pair) {
    var picker = pair.querySelector("input[type='color']");
    var text = pair.querySelector("input[type='text']");
    var sample = pair.querySelector(".color-sample");
    if (!picker || !text) return;
    function show(value) { if (sample) sample.style.setProperty("--sample", value); }
    picker.addEventListener("input", function () { text.value = picker.value; show(picker.value); });
    text.addEventListener("input", function () {
      if (/^#[0-9a-fA-F]{6}$/.test(text.value)) { picker.value = text.value.toLowerCase(); show(picker.value); }
    });
  });

  var file = document.querySelector("input[type='file'][name='logo']");
  var preview = document.querySelector("[data-logo-preview]");
  if (file && preview && window.URL) {
    file.addEventListener("change", function () {
      if (!file.files || !file.files[0]) return;
      var img = document.createElement("img");
      img.alt = "The new logo (saved when you save the settings)";
      img.src = URL.createObjectURL(file.files[0]);
      preview.replaceChildren(img);
    });
  }
})();
