// The BPMN editor: bpmn-js's modeler with Wuye's properties panel (lane → role, user task →
// form, service task → operator and parameters, timers, conditions, messages, scripts,
// decisions, documentation), autosave of the draft, and the deploy linter's problems shown
// on the diagram elements they concern. No inline script: the page's CSP allows none.
(function () {
  "use strict";
  var root = document.getElementById("modeler-app");
  if (!root) return;

  var canvasEl = root.querySelector('[data-testid="canvas"]');
  var panel = root.querySelector('[data-role="panel"]');
  var problemsEl = root.querySelector('[data-testid="problems"]');
  var M = JSON.parse(document.getElementById("modeler-messages").textContent);
  var vocab = { roles: [], forms: [], operators: [], messages: [] };
  var decisions = [];
  var problems = [];
  var modeler, modeling, moddle, sync, selected = null;

  // ------------------------------------------------------------ small DOM helpers (no innerHTML)

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (k.indexOf("on") === 0) node.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== undefined && attrs[k] !== null && attrs[k] !== false) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  var fieldSeq = 0;

  function field(label, control, help) {
    var id = "wuye-prop-" + (++fieldSeq);
    control.id = id;
    return h("div", { class: "mb-1" }, [h("label", { for: id, text: label }), control,
      help ? h("div", { class: "form-text", text: help }) : null]);
  }

  function input(value, onchange, attrs) {
    var node = h("input", Object.assign({ class: "form-control form-control-sm", type: "text" }, attrs || {}));
    node.value = value || "";
    node.addEventListener("change", function () { onchange(node.value.trim()); });
    return node;
  }

  function textarea(value, onchange, rows) {
    var node = h("textarea", { class: "form-control form-control-sm font-monospace", rows: rows || 3 });
    node.value = value || "";
    node.addEventListener("change", function () { onchange(node.value); });
    return node;
  }

  function select(options, value, onchange) {
    var node = h("select", { class: "form-select form-select-sm" });
    node.appendChild(h("option", { value: "", text: M.choose }));
    var known = false;
    options.forEach(function (o) {
      var opt = h("option", { value: o.value, text: o.label });
      if (o.value === value) { opt.selected = true; known = true; }
      node.appendChild(opt);
    });
    if (value && !known) node.appendChild(h("option", { value: value, text: value + " " + M.unknown, selected: "selected" }));
    node.addEventListener("change", function () { onchange(node.value); });
    return node;
  }

  // ------------------------------------------------------------ BPMN model helpers

  function is(bo, type) { return bo && bo.$instanceOf && bo.$instanceOf(type); }

  function extValues(bo) { return (bo.extensionElements && bo.extensionElements.get("values")) || []; }

  function findExt(bo, type) { return extValues(bo).filter(function (v) { return v.$type === type; })[0]; }

  function ensureExt(element, bo, type, attrs) {
    var found = findExt(bo, type);
    if (found) return found;
    var ext = bo.extensionElements;
    if (!ext) {
      ext = moddle.create("bpmn:ExtensionElements", { values: [] });
      ext.$parent = bo;
      modeling.updateModdleProperties(element, bo, { extensionElements: ext });
    }
    found = moddle.create(type, attrs || {});
    found.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([found]) });
    return found;
  }

  function removeExt(element, bo, type) {
    var ext = bo.extensionElements;
    if (!ext) return;
    modeling.updateModdleProperties(element, ext, {
      values: ext.get("values").filter(function (v) { return v.$type !== type; }) });
  }

  function getProperty(bo, name) {
    var props = findExt(bo, "spiffworkflow:Properties");
    var found = props && props.get("properties").filter(function (p) { return p.name === name; })[0];
    return found ? found.value : "";
  }

  function setProperty(element, bo, name, value) {
    var props = findExt(bo, "spiffworkflow:Properties");
    if (!value && !props) return;
    props = props || ensureExt(element, bo, "spiffworkflow:Properties", { properties: [] });
    var list = props.get("properties");
    var found = list.filter(function (p) { return p.name === name; })[0];
    if (!value) {
      if (found) modeling.updateModdleProperties(element, props, { properties: list.filter(function (p) { return p !== found; }) });
    } else if (found) {
      modeling.updateModdleProperties(element, found, { value: value });
    } else {
      found = moddle.create("spiffworkflow:Property", { name: name, value: value });
      found.$parent = props;
      modeling.updateModdleProperties(element, props, { properties: list.concat([found]) });
    }
  }

  function expression(text) {
    return text ? moddle.create("bpmn:FormalExpression", { body: text }) : undefined;
  }

  function roleOf(laneName) {
    var name = (laneName || "").trim();
    return vocab.roles.filter(function (r) { return r.code === name || r.name === name; })[0];
  }

  function eventDefinition(bo, type) {
    return (bo.get && bo.eventDefinitions ? bo.eventDefinitions : []).filter(function (d) { return is(d, type); })[0];
  }

  // ------------------------------------------------------------ properties panel sections

  function sectionGeneral(element, bo) {
    var nodes = [field(M.id, h("input", { class: "form-control form-control-sm", value: bo.id, readonly: "readonly" }))];
    if (!is(bo, "bpmn:Lane")) {
      nodes.push(field(M.name, input(bo.name, function (v) { modeling.updateLabel(element, v); }, { "data-prop": "name" })));
    }
    if (is(bo, "bpmn:FlowNode")) {
      var lanes = bo.get("lanes") || [];
      var lane = lanes[0];
      var role = lane && roleOf(lane.name);
      nodes.push(h("p", { class: "mt-2 mb-0", "data-prop": "lane" }, [
        h("strong", { text: M.lane + "：" }),
        lane ? (lane.name || lane.id) + (role ? "（" + role.code + "）" : "") : M.no_lane]));
    }
    return nodes;
  }

  function sectionLane(element, bo) {
    var role = roleOf(bo.name);
    var options = vocab.roles.map(function (r) { return { value: r.name, label: r.label + "（" + r.code + "）" }; });
    var control = select(options, role ? role.name : bo.name, function (v) { if (v) modeling.updateLabel(element, v); });
    control.setAttribute("data-prop", "role");
    return [field(M.role, control, role ? null : M.unknown_role)];
  }

  function sectionUserTask(element, bo) {
    var forms = vocab.forms.map(function (f) { return { value: f.key, label: f.key + (f.label ? " · " + f.label : "") }; });
    var formSelect = select(forms, getProperty(bo, "formKey"), function (v) { setProperty(element, bo, "formKey", v); });
    formSelect.setAttribute("data-prop", "formKey");
    return [field(M.form, formSelect),
      field(M.due, input(getProperty(bo, "due"), function (v) { setProperty(element, bo, "due", v); }), M.due_help)];
  }

  function setOperator(element, bo, name) {
    if (!name) { removeExt(element, bo, "spiffworkflow:ServiceTaskOperator"); return; }
    var spec = vocab.operators.filter(function (o) { return o.name === name; })[0];
    var op = ensureExt(element, bo, "spiffworkflow:ServiceTaskOperator", { id: name });
    modeling.updateModdleProperties(element, op, { id: name });
    var params = op.get("parameterList");
    if (!params) {
      params = moddle.create("spiffworkflow:Parameters", { parameters: [] });
      params.$parent = op;
      modeling.updateModdleProperties(element, op, { parameterList: params });
    }
    var declared = spec ? spec.params.map(function (p) { return p.name; }) : [];
    var keep = params.get("parameters").filter(function (p) { return declared.indexOf(p.id) >= 0; });
    declared.forEach(function (pname) {
      if (!keep.some(function (p) { return p.id === pname; })) {
        var np = moddle.create("spiffworkflow:Parameter", { id: pname, type: "any", value: "" });
        np.$parent = params;
        keep.push(np);
      }
    });
    modeling.updateModdleProperties(element, params, { parameters: keep });
  }

  function sectionServiceTask(element, bo) {
    var op = findExt(bo, "spiffworkflow:ServiceTaskOperator");
    var options = vocab.operators.map(function (o) { return { value: o.name, label: o.label + "（" + o.name + "）" }; });
    var opSelect = select(options, op ? op.id : "", function (v) { setOperator(element, bo, v); render(); });
    opSelect.setAttribute("data-prop", "operator");
    var nodes = [field(M.operator, opSelect)];
    if (op) {
      var spec = vocab.operators.filter(function (o) { return o.name === op.id; })[0];
      if (spec && spec.external) nodes.push(h("p", { class: "form-text", text: M.external }));
      var params = op.get("parameterList");
      (params ? params.get("parameters") : []).forEach(function (p) {
        var label = spec && spec.params.filter(function (sp) { return sp.name === p.id; })[0];
        nodes.push(field(M.param + " " + p.id + (label && label.label !== p.id ? "（" + label.label + "）" : ""),
          input(p.value, function (v) { modeling.updateModdleProperties(element, p, { value: v }); }), null));
      });
      nodes.push(field(M.result_variable, input(op.resultVariable, function (v) {
        modeling.updateModdleProperties(element, op, { resultVariable: v || undefined });
      })));
    }
    return nodes;
  }

  function timerState(def) {
    var kinds = ["timeDuration", "timeDate", "timeCycle"];
    for (var i = 0; i < kinds.length; i++) {
      var expr = def.get(kinds[i]);
      if (!expr) continue;
      var text = (expr.body || "").trim();
      var quoted = /^["'](.*)["']$/.exec(text);
      var workdays = /^working_days\((.*)\)$/.exec(text);
      if (kinds[i] === "timeDuration" && quoted) return { mode: "duration", value: quoted[1] };
      if (kinds[i] === "timeDate" && workdays) return { mode: "workdays", value: workdays[1] };
      if (kinds[i] === "timeDate" && quoted) return { mode: "date", value: quoted[1] };
      return { mode: "expression", kind: kinds[i], value: text };
    }
    return { mode: "duration", value: "" };
  }

  function setTimer(element, def, mode, value) {
    var kind = "timeDuration", text = "";
    if (mode === "duration") text = value ? JSON.stringify(value) : "";
    else if (mode === "date") { kind = "timeDate"; text = value ? JSON.stringify(value) : ""; }
    else if (mode === "workdays") { kind = "timeDate"; text = value ? "working_days(" + value + ")" : ""; }
    else { kind = timerState(def).kind || "timeDuration"; text = value; }
    var props = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
    props[kind] = expression(text);
    modeling.updateModdleProperties(element, def, props);
  }

  function sectionTimer(element, def) {
    var current = timerState(def);
    var modes = [{ value: "duration", label: M.timer_duration }, { value: "date", label: M.timer_date },
      { value: "workdays", label: M.timer_workdays }, { value: "expression", label: M.timer_expression }];
    var valueInput;
    var modeSelect = select(modes, current.mode, function (v) { setTimer(element, def, v || "duration", valueInput.value.trim()); render(); });
    modeSelect.setAttribute("data-prop", "timer-kind");
    valueInput = input(current.value, function (v) { setTimer(element, def, modeSelect.value || "duration", v); }, { "data-prop": "timer-value" });
    var help = { duration: M.timer_duration_help, date: M.timer_date_help, workdays: M.timer_workdays_help,
      expression: M.timer_expression_help }[current.mode];
    return [h("h6", { class: "mt-3", text: M.timer }), field(M.timer_kind, modeSelect), field(M.timer_value, valueInput, help)];
  }

  function setMessage(element, holder, name) {
    if (!name) { modeling.updateModdleProperties(element, holder, { messageRef: undefined }); return; }
    var definitions = modeler.getDefinitions();
    var message = definitions.get("rootElements").filter(function (r) { return is(r, "bpmn:Message") && r.name === name; })[0];
    if (!message) {
      message = moddle.create("bpmn:Message", { name: name });
      message.id = moddle.ids.nextPrefixed("Message_", message);
      message.$parent = definitions;
      modeling.updateModdleProperties(element, definitions, { rootElements: definitions.get("rootElements").concat([message]) });
    }
    modeling.updateModdleProperties(element, holder, { messageRef: message });
  }

  function sectionMessage(element, holder, variableHolder) {
    var options = vocab.messages.map(function (m) { return { value: m.name, label: m.label + "（" + m.name + "）" }; });
    var current = holder.messageRef ? holder.messageRef.name : "";
    var msgSelect = select(options, current, function (v) { setMessage(element, holder, v); });
    msgSelect.setAttribute("data-prop", "message");
    var variable = findExt(variableHolder, "spiffworkflow:MessageVariable");
    return [h("h6", { class: "mt-3", text: M.message }), field(M.message, msgSelect),
      field(M.message_variable, input(variable ? variable.value : "", function (v) {
        if (!v) { removeExt(element, variableHolder, "spiffworkflow:MessageVariable"); return; }
        var mv = ensureExt(element, variableHolder, "spiffworkflow:MessageVariable");
        modeling.updateModdleProperties(element, mv, { value: v });
      }), M.message_variable_help)];
  }

  function sectionFlow(element, bo) {
    var source = element.source && element.source.businessObject;
    if (!source || !(is(source, "bpmn:ExclusiveGateway") || is(source, "bpmn:InclusiveGateway"))) return [];
    var cond = bo.conditionExpression ? bo.conditionExpression.body : "";
    var isDefault = source.default === bo;
    var checkbox = h("input", { type: "checkbox", class: "form-check-input", "data-prop": "default" });
    checkbox.checked = isDefault;
    checkbox.addEventListener("change", function () {
      modeling.updateProperties(element.source, { "default": checkbox.checked ? bo : undefined });
      if (checkbox.checked && bo.conditionExpression) modeling.updateProperties(element, { conditionExpression: undefined });
      render();
    });
    var nodes = [h("div", { class: "form-check mt-2" }, [checkbox, h("span", { class: "form-check-label ms-1", text: M.default_flow })])];
    if (!isDefault) {
      nodes.push(field(M.condition, input(cond, function (v) {
        modeling.updateProperties(element, { conditionExpression: expression(v) });
      }, { "data-prop": "condition" }), M.condition_help));
    }
    return nodes;
  }

  function sectionScript(element, bo) {
    return [field(M.script, textarea(bo.script, function (v) { modeling.updateProperties(element, { script: v }); }, 6), M.script_help)];
  }

  function sectionDecision(element, bo) {
    var called = findExt(bo, "spiffworkflow:CalledDecisionId");
    var options = decisions.map(function (d) { return { value: d.id, label: d.name + "（" + d.id + " · " + d.file + "）" }; });
    return [field(M.decision, select(options, called ? called.value : "", function (v) {
      if (!v) { removeExt(element, bo, "spiffworkflow:CalledDecisionId"); return; }
      var c = ensureExt(element, bo, "spiffworkflow:CalledDecisionId");
      modeling.updateModdleProperties(element, c, { value: v });
    }), decisions.length ? null : M.no_decisions)];
  }

  function sectionDocumentation(element, bo) {
    var docs = bo.get("documentation") || [];
    return [field(M.documentation, textarea(docs[0] ? docs[0].text : "", function (v) {
      modeling.updateProperties(element, { documentation: v.trim() ? [moddle.create("bpmn:Documentation", { text: v })] : [] });
    }))];
  }

  function sectionProblems(bo) {
    var mine = problems.filter(function (p) { return p.element_id === bo.id; });
    if (!mine.length) return [];
    return [h("div", { class: "alert alert-danger mt-2 p-2" }, mine.map(function (p) { return h("div", { text: p.message }); }))];
  }

  function render() {
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    var element = selected;
    if (!element || !element.businessObject || element.type === "label") {
      panel.appendChild(h("p", { class: "text-muted", text: M.select_element }));
      return;
    }
    var bo = element.businessObject;
    var nodes = sectionGeneral(element, bo);
    if (is(bo, "bpmn:Lane")) nodes = nodes.concat(sectionLane(element, bo));
    if (is(bo, "bpmn:UserTask")) nodes = nodes.concat(sectionUserTask(element, bo));
    if (is(bo, "bpmn:ServiceTask")) nodes = nodes.concat(sectionServiceTask(element, bo));
    if (is(bo, "bpmn:ScriptTask")) nodes = nodes.concat(sectionScript(element, bo));
    if (is(bo, "bpmn:BusinessRuleTask")) nodes = nodes.concat(sectionDecision(element, bo));
    if (is(bo, "bpmn:ReceiveTask")) nodes = nodes.concat(sectionMessage(element, bo, bo));
    var timer = eventDefinition(bo, "bpmn:TimerEventDefinition");
    if (timer) nodes = nodes.concat(sectionTimer(element, timer));
    var message = eventDefinition(bo, "bpmn:MessageEventDefinition");
    if (message) nodes = nodes.concat(sectionMessage(element, message, message));
    if (is(bo, "bpmn:SequenceFlow")) nodes = nodes.concat(sectionFlow(element, bo));
    nodes = nodes.concat(sectionDocumentation(element, bo), sectionProblems(bo));
    nodes.forEach(function (n) { panel.appendChild(n); });
  }

  // ------------------------------------------------------------ problems on the diagram

  function showProblems(list) {
    problems = list;
    var registry = modeler.get("elementRegistry"), overlays = modeler.get("overlays"), canvas = modeler.get("canvas");
    overlays.remove({ type: "wuye-problem" });
    registry.getAll().forEach(function (e) { canvas.removeMarker(e.id, "wuye-problem"); });
    while (problemsEl.firstChild) problemsEl.removeChild(problemsEl.firstChild);
    if (!list.length) {
      problemsEl.appendChild(h("li", { class: "list-group-item text-success", text: M.no_problems }));
    }
    var counts = {};
    list.forEach(function (p) {
      var element = p.element_id && registry.get(p.element_id);
      var item = h("li", { class: "list-group-item list-group-item-action text-danger", "data-testid": "problem",
        "data-element": p.element_id || "", text: p.message });
      if (element) {
        item.style.cursor = "pointer";
        item.addEventListener("click", function () {
          modeler.get("selection").select(element);
          canvas.scrollToElement(element);
        });
        counts[element.id] = (counts[element.id] || 0) + 1;
      }
      problemsEl.appendChild(item);
    });
    Object.keys(counts).forEach(function (id) {
      canvas.addMarker(id, "wuye-problem");
      var badge = h("span", { class: "wuye-problem-badge", title: list.filter(function (p) { return p.element_id === id; })
        .map(function (p) { return p.message; }).join("\n"), text: "! " + counts[id] });
      overlays.add(id, "wuye-problem", { position: { top: -10, right: 10 }, html: badge });
    });
    render();
  }

  function validate() {
    problemsEl.textContent = "";
    problemsEl.appendChild(h("li", { class: "list-group-item text-muted", text: M.validating }));
    return sync.saveNow().then(function () {
      return sync.requestJSON(root.dataset.validateUrl, {});
    }).then(function (r) {
      if (r.expired) throw new Error(M.expired);
      if (!r.ok) throw new Error(r.data.message);
      showProblems(r.data.problems);
      return r.data.problems;
    }).catch(function (e) {
      problemsEl.textContent = "";
      problemsEl.appendChild(h("li", { class: "list-group-item text-danger", text: e.message || String(e) }));
    });
  }

  // ------------------------------------------------------------ start

  function decisionsOf(dmn) {
    var found = [];
    Object.keys(dmn || {}).forEach(function (file) {
      var doc = new DOMParser().parseFromString(dmn[file], "application/xml");
      Array.prototype.forEach.call(doc.getElementsByTagNameNS("*", "decision"), function (d) {
        found.push({ id: d.getAttribute("id"), name: d.getAttribute("name") || d.getAttribute("id"), file: file });
      });
    });
    return found;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }

  Promise.all([getJSON(root.dataset.moddleUrl), getJSON(root.dataset.vocabularyUrl)]).then(function (loaded) {
    vocab = loaded[1];
    modeler = new BpmnJS({ container: canvasEl, moddleExtensions: { spiffworkflow: loaded[0] },
      additionalModules: [window.WuyeBpmnI18n] });
    window.wuyeModeler = modeler;  // for browser tests and the console
    modeling = modeler.get("modeling");
    moddle = modeler.get("moddle");
    sync = window.WuyeDraftSync({
      root: root, key: root.dataset.key, scope: "bpmn", draftUrl: root.dataset.draftUrl, saveUrl: root.dataset.saveUrl,
      fromDraft: function (d) { decisions = decisionsOf(d.dmn); return d.xml; },
      setContent: function (xml) {
        return modeler.importXML(xml).then(function (result) {
          modeler.get("canvas").zoom("fit-viewport");
          if (result.warnings && result.warnings.length) console.warn(result.warnings);
        });
      },
      getContent: function () { return modeler.saveXML({ format: true }).then(function (r) { return r.xml; }); },
      payload: function (xml) { return { xml: xml }; }
    });
    modeler.on("commandStack.changed", function (e) {
      if (e.trigger === "clear") return;
      sync.markDirty();
    });
    modeler.on("selection.changed", function (e) { selected = e.newSelection.length === 1 ? e.newSelection[0] : null; render(); });
    modeler.on("elements.changed", function (e) {
      if (!selected || panel.contains(document.activeElement)) return;
      if (e.elements.some(function (x) { return x === selected || x.id === selected.id; })) render();
    });
    return sync.load().then(function () { root.dataset.ready = "true"; });
  }).catch(function (e) {
    var status = root.querySelector('[data-testid="save-status"]');
    status.textContent = (M.load_failed || "") + " " + (e.message || e);
    status.className = "small text-danger";
  });

  root.querySelector('[data-action="save"]').addEventListener("click", function () {
    if (sync) sync.saveNow().catch(function () { /* shown in the status */ });
  });
  root.querySelector('[data-action="validate"]').addEventListener("click", function () { if (sync) validate(); });
  root.querySelector('[data-action="deploy"]').addEventListener("click", function () {
    if (!sync) return;
    sync.saveNow().then(function () { window.location.href = root.dataset.deployUrl; }).catch(function () { /* shown */ });
  });
})();
