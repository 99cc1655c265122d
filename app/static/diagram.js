// Renders a case's BPMN diagram (bpmn-js viewer) and marks completed, active and waiting elements.
(function () {
  document.querySelectorAll("[data-diagram-url]").forEach(function (el) {
    fetch(el.dataset.diagramUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var viewer = new BpmnJS({ container: el });
        return viewer.importXML(data.xml).then(function () {
          var canvas = viewer.get("canvas");
          canvas.zoom("fit-viewport");
          Object.keys(data.states).forEach(function (state) {
            data.states[state].forEach(function (id) {
              try { canvas.addMarker(id, "wuye-" + state); } catch (e) { /* element not drawn */ }
            });
          });
          el.dataset.rendered = "true";
        });
      })
      .catch(function (err) { el.textContent = String(err); });
  });
})();
