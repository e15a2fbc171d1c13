/* mlpilot dashboard: tabs over the page's sections, charts drawn by vega-embed from the specs
   embedded in the page (no network), and the phase form's hint for backward moves. */
(function () {
  "use strict";

  var holder = document.getElementById("chart-specs");
  var specs = holder ? JSON.parse(holder.textContent) : {};
  var drawn = {};

  function draw(root) {
    var boxes = root.querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(boxes, function (box) {
      var id = box.getAttribute("data-chart");
      if (drawn[id] || !specs[id] || typeof window.vegaEmbed !== "function") { return; }
      drawn[id] = true;
      window.vegaEmbed(box, specs[id], { mode: "vega-lite", actions: false, renderer: "svg" })
        .then(function () { box.setAttribute("data-rendered", "true"); })
        .catch(function (error) {
          box.setAttribute("data-rendered", "error");
          box.textContent = "This chart could not be drawn: " + error;
        });
    });
  }

  var links = Array.prototype.slice.call(document.querySelectorAll("nav.tabs a[href^='#']"));
  var panels = links.map(function (a) { return document.getElementById(a.hash.slice(1)); });

  function panelOf(id) {
    var target = id ? document.getElementById(id) : null;
    while (target && !(target.classList && target.classList.contains("tab"))) {
      target = target.parentNode;
    }
    return target || panels[0];
  }

  function show(id) {
    var panel = panelOf(id);
    if (!panel) { return; }
    panels.forEach(function (p, i) {
      if (!p) { return; }
      var on = p === panel;
      p.classList.toggle("active", on);
      links[i].classList.toggle("active", on);
      if (on) { links[i].setAttribute("aria-current", "page"); } else { links[i].removeAttribute("aria-current"); }
    });
    draw(panel);
  }

  if (links.length) {
    document.documentElement.classList.add("js");
    window.addEventListener("hashchange", function () { show(location.hash.slice(1)); });
    show(location.hash.slice(1));
  } else {
    draw(document);
  }

  // A move back is a loop: it needs a reason, so the field becomes required.
  var phase = document.getElementById("phase-select");
  var reason = document.getElementById("phase-reason");
  if (phase && reason) {
    var sync = function () {
      var option = phase.options[phase.selectedIndex];
      reason.required = !!option && option.getAttribute("data-backward") === "true";
    };
    phase.addEventListener("change", sync);
    sync();
  }
})();
