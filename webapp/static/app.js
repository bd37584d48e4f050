// Progressive enhancement only: the page works fully without this script.
(function () {
  "use strict";
  var form = document.getElementById("search");
  if (!form) return;
  // Apply a filter or sort as soon as it changes, dropping empty fields from the URL.
  function submit() {
    if (form.method.toLowerCase() === "post") return form.submit();
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (String(value).trim() !== "") params.append(key, value);
    });
    window.location.assign("/search?" + params.toString());
  }
  form.addEventListener("submit", function (event) {
    // a patient description may be longer than a URL may be: the form posts it
    if (form.method.toLowerCase() === "post") return;
    event.preventDefault();
    submit();
  });
  // "Describe a patient": the search box becomes a text area (and back), keeping the text.
  var toggle = document.getElementById("patient-toggle");
  if (toggle) {
    toggle.addEventListener("change", function () {
      var box = document.getElementById("q");
      var other = document.createElement(toggle.checked ? "textarea" : "input");
      if (toggle.checked) {
        other.rows = 5;
        other.maxLength = 4000;
        other.placeholder = "A 45-year-old man with a history of … (age, sex, conditions, treatments; what the patient does not have)";
      } else {
        other.type = "search";
        other.maxLength = 500;
        other.autocomplete = "off";
        other.placeholder = "Condition, drug, NCT ID, sponsor…";
      }
      other.id = "q";
      other.name = "q";
      other.value = box.value;
      box.replaceWith(other);
      form.method = toggle.checked ? "post" : "get";
      other.focus();
    });
  }
  // "Recruiting sites only" and the site-status facet's Recruiting box are one filter:
  // changing either changes both, so the form never sends the one the user unticked.
  var recruiting = document.getElementById("recruiting-sites");
  function recruitingTwins() {
    return form.querySelectorAll("#facet-site_status input[value=RECRUITING], #recruiting-sites");
  }
  form.querySelectorAll(".facet input[type=checkbox], #sort").forEach(function (el) {
    el.addEventListener("change", function () {
      if (recruiting && el.name === "site_status" && el.value === "RECRUITING") {
        recruitingTwins().forEach(function (twin) { twin.checked = el.checked; });
      }
      submit();
    });
  });
  var radius = document.getElementById("radius");
  if (radius) {
    radius.addEventListener("change", function () {
      if (document.getElementById("near").value.trim() !== "") submit();
    });
  }
  // Autocomplete (an ARIA combobox over GET /api/suggest): the search box completes
  // conditions, interventions and sponsors; a long facet list gets a "find" box.
  // Choosing a value applies it as a filter, so the count shown is what one gets.
  // Without this script the search box is plain text and facets have "More" links.
  var LABELS = { condition: "Condition", intervention: "Intervention", sponsor: "Sponsor",
                 country: "Country" };
  var KEEP = /^(q|page|facet_limit|facet_prefix|fields|facets|format)$/;
  function filtersOfThisPage() {
    var params = new URLSearchParams(window.location.search);
    var kept = new URLSearchParams();
    params.forEach(function (value, key) { if (!KEEP.test(key)) kept.append(key, value); });
    return kept;
  }
  function chooseFilter(field, value, keepQuery) {
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    if (!keepQuery) params.delete("q");
    params.append(field, value);
    window.location.assign("/search?" + params.toString());
  }
  // `choose(field, value)`: what picking a suggestion does (default: apply it as a
  // filter); `ignore`: parameters of this page the counts are not taken under
  function combobox(input, fields, keepQuery, choose, ignore) {
    choose = choose || function (field, value) { chooseFilter(field, value, keepQuery); };
    var list = document.createElement("ul");
    list.id = input.id + "-suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var options = [], active = -1, timer = null, asked = 0;
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      options.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function show(suggestions) {
      list.textContent = "";
      options = suggestions.map(function (s, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.field = s.field;
        li.dataset.value = s.value;
        var value = document.createElement("span");
        value.className = "value";
        value.textContent = s.value;
        var about = document.createElement("span");
        about.className = "about";
        about.textContent = (fields.length > 1 ? LABELS[s.field] + " · " : "") +
          s.count.toLocaleString() + (s.count === 1 ? " study" : " studies");
        li.append(value, about);
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();  // keep focus, so blur does not close the list first
          choose(s.field, s.value);
        });
        list.appendChild(li);
        return li;
      });
      active = -1;
      list.hidden = options.length === 0;
      input.setAttribute("aria-expanded", options.length ? "true" : "false");
    }
    function ask() {
      var prefix = input.value.trim();
      if (prefix.length < 2) { close(); return; }
      var params = filtersOfThisPage();
      (ignore || []).forEach(function (name) { params.delete(name); });
      if (keepQuery) {
        var q = new URLSearchParams(window.location.search).get("q");
        if (q) params.set("q", q);
      }
      params.set("prefix", prefix);
      fields.forEach(function (f) { params.append("field", f); });
      params.set("limit", fields.length > 1 ? "4" : "8");
      var mine = ++asked;
      fetch("/api/suggest?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { if (mine === asked) show(data.suggestions || []); })
        .catch(function () { close(); });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden || !options.length) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % options.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active <= 0 ? options.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(options[active].dataset.field, options[active].dataset.value);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }
  var q = document.getElementById("q");
  if (q && q.tagName === "INPUT") combobox(q, ["condition", "intervention", "sponsor"], false);
  // the Near box completes the cities where studies have sites ("Boston, Massachusetts"
  // reads back as a place); picking one searches near it
  var nearBox = document.getElementById("near");
  if (nearBox) {
    combobox(nearBox, ["city"], true, function (field, value) {
      nearBox.value = value;
      submit();
    }, ["near", "radius"]);
  }
  form.querySelectorAll(".facet[data-truncated]").forEach(function (facet) {
    var name = facet.id.replace(/^facet-/, "");
    var label = facet.querySelector("legend").textContent.trim().toLowerCase();
    var find = document.createElement("input");
    find.type = "search";
    find.id = "find-" + name;
    find.className = "facet-find";
    find.autocomplete = "off";
    find.maxLength = 100;
    find.placeholder = "Find a " + label + "…";
    find.setAttribute("aria-label", "Find a " + label);
    facet.querySelector("legend").insertAdjacentElement("afterend", find);
    find.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();  // never submit the form from here
    });
    combobox(find, [name], true);
  });
  // "/" focuses the search box, as on many search sites.
  document.addEventListener("keydown", function (event) {
    var q = document.getElementById("q");
    var el = document.activeElement || {};
    var typing = el.tagName === "TEXTAREA" ||
      (el.tagName === "INPUT" && /^(text|search|number)$/.test(el.type));
    if (event.key === "/" && !typing) {
      event.preventDefault();
      q.focus();
      q.select();
    }
  });
})();
