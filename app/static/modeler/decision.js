// A DMN decision table of the draft, edited with dmn-js; saved with the draft (autosave,
// local copy, edit-conflict refusal: see draftsync.js).
(function () {
  "use strict";
  var root = document.getElementById("decision-app");
  if (!root) return;
  var filename = root.dataset.filename;
  var dmnJS = new DmnJS({ container: root.querySelector('[data-testid="dmn-canvas"]') });
  window.wuyeDmn = dmnJS;
  var sync;

  function openTable() {
    var views = dmnJS.getViews();
    var table = views.filter(function (v) { return v.type === "decisionTable"; })[0] || views[0];
    return table ? dmnJS.open(table) : Promise.resolve();
  }

  dmnJS.on("views.changed", function () {
    var viewer = dmnJS.getActiveViewer();
    if (viewer && !viewer.wuyeWatched) {
      viewer.wuyeWatched = true;
      viewer.on("elements.changed", function () { if (sync) sync.markDirty(); });
    }
  });

  sync = window.WuyeDraftSync({
    root: root, key: root.dataset.key, scope: "dmn:" + filename, draftUrl: root.dataset.draftUrl,
    saveUrl: root.dataset.saveUrl,
    fromDraft: function (d) { return (d.dmn || {})[filename] || ""; },
    setContent: function (xml) { return dmnJS.importXML(xml).then(openTable); },
    getContent: function () { return dmnJS.saveXML({ format: true }).then(function (r) { return r.xml; }); },
    payload: function (xml) { var dmn = {}; dmn[filename] = xml; return { dmn: dmn }; }
  });
  sync.load().then(function () { root.dataset.ready = "true"; }).catch(function () { /* shown in the status */ });
  root.querySelector('[data-action="save"]').addEventListener("click", function () {
    sync.saveNow().catch(function () { /* shown in the status */ });
  });
})();
