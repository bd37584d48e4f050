// Progressive enhancement only: the page works fully without this script.
(function () {
  "use strict";
  var form = document.getElementById("search");
  if (!form) return;
  // Apply a filter or sort as soon as it changes, dropping empty fields from the URL.
  function submit() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (String(value).trim() !== "") params.append(key, value);
    });
    window.location.assign("/search?" + params.toString());
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });
  form.querySelectorAll(".facet input[type=checkbox], #sort").forEach(function (el) {
    el.addEventListener("change", submit);
  });
  // "/" focuses the search box, as on many search sites.
  document.addEventListener("keydown", function (event) {
    var q = document.getElementById("q");
    if (event.key === "/" && document.activeElement !== q) {
      event.preventDefault();
      q.focus();
      q.select();
    }
  });
})();
