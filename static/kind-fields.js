// Shows only the picked kind's fieldset in a schema form (views/components/schema-form.tsx); without script every fieldset shows.
(function () {
  "use strict";

  /** Hides every .kind-fields of `form` but the one whose data-kind is the picked kind, and the "fill in yours" hint. */
  function apply(form) {
    var select = form.querySelector('select[name="kind"]');
    if (!select) return;
    var fieldsets = form.querySelectorAll(".kind-fields");
    var known = false;
    for (var i = 0; i < fieldsets.length; i++) if (fieldsets[i].getAttribute("data-kind") === select.value) known = true;
    // A kind without a fieldset of its own (none to fill in) hides them all; the hint only speaks while several show.
    for (var j = 0; j < fieldsets.length; j++) fieldsets[j].hidden = fieldsets[j].getAttribute("data-kind") !== select.value;
    var hint = form.querySelector(".kind-hint");
    if (hint) hint.hidden = known || fieldsets.length === 0;
  }

  function applyAll(root) {
    var forms = root.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) if (forms[i].querySelector(".kind-fields")) apply(forms[i]);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.name === "kind" && target.form) apply(target.form);
  });
  // Pages swapped in by htmx bring their forms with them.
  document.addEventListener("htmx:after:swap", function () {
    applyAll(document);
  });
  if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", function () {
      applyAll(document);
    });
  else applyAll(document);
})();
