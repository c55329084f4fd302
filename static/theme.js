// Theme: dark by default, light when chosen; the choice is remembered per browser. Loaded in <head> so the page never flashes.
(function () {
  var KEY = "vigil-theme";
  var root = document.documentElement;
  var saved = null;
  try {
    saved = localStorage.getItem(KEY);
  } catch (e) {
    /* storage blocked: stay dark */
  }
  root.setAttribute("data-theme", saved === "light" ? "light" : "dark");
  function label(button) {
    var light = root.getAttribute("data-theme") === "light";
    var text = light ? "Switch to the dark theme" : "Switch to the light theme";
    button.setAttribute("aria-label", text);
    button.setAttribute("title", text);
    // No aria-pressed: the label already says what a press does, and both would read "Switch to the dark theme, pressed".
  }
  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-theme-toggle]");
    for (var i = 0; i < buttons.length; i++) {
      var b = buttons[i];
      b.hidden = false;
      label(b);
      b.addEventListener("click", function (ev) {
        var next = root.getAttribute("data-theme") === "light" ? "dark" : "light";
        root.setAttribute("data-theme", next);
        try {
          localStorage.setItem(KEY, next);
        } catch (e) {
          /* not remembered, still switched */
        }
        label(ev.currentTarget);
      });
    }
  });
})();
