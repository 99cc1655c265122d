"""What changed between two versions of a BPMN model: elements added, removed and changed
(and which of their settings changed), matched by BPMN id, the way SpiffWorkflow aligns
task specs. Reads the XML only (safe parser); the layout (DI) is ignored, so moving a shape
is not a change, but moving a task to another lane is.

Why not bpmn-js-differ: it runs in the browser on bpmn-moddle and needs a bundler; the
server-side list is what the migration preview and the tests need anyway, and the page
draws it on the diagram with the same viewer markers as a case's diagram.
"""
from flask_babel import lazy_gettext as _l

from app.engine import specs

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"

TYPE_LABELS = {
    "userTask": _l("用户任务"), "serviceTask": _l("服务任务"), "scriptTask": _l("脚本任务"),
    "businessRuleTask": _l("业务规则任务"), "task": _l("任务"), "manualTask": _l("人工任务"),
    "sendTask": _l("发送任务"), "receiveTask": _l("接收任务"), "startEvent": _l("开始事件"), "endEvent": _l("结束事件"),
    "intermediateCatchEvent": _l("中间捕获事件"), "intermediateThrowEvent": _l("中间抛出事件"),
    "boundaryEvent": _l("边界事件"), "exclusiveGateway": _l("排他网关"), "parallelGateway": _l("并行网关"),
    "inclusiveGateway": _l("包容网关"), "eventBasedGateway": _l("事件网关"), "sequenceFlow": _l("连线"),
    "lane": _l("泳道"), "participant": _l("参与者（池）"), "subProcess": _l("子流程"), "callActivity": _l("调用活动"),
    "message": _l("消息"), "process": _l("流程"), "messageFlow": _l("消息流"),
}

ASPECT_LABELS = {
    "type": _l("类型"), "name": _l("名称"), "lane": _l("泳道"), "documentation": _l("说明"),
    "properties": _l("表单与属性"), "operator": _l("服务操作"), "condition": _l("条件"), "script": _l("脚本"),
    "timer": _l("定时器"), "message": _l("消息"), "connection": _l("连接"), "attributes": _l("其他属性"),
    "other": _l("其他设置"),
}

# Containers whose children are diffed one by one; their own signature leaves them out.
_CONTAINERS = {"definitions", "process", "subProcess", "collaboration", "laneSet", "transaction"}
_SKIP_CHILDREN = {"incoming", "outgoing", "flowNodeRef", "laneSet", "childLaneSet"}


def _local(tag) -> str:
    return tag.split("}", 1)[1] if isinstance(tag, str) and "}" in tag else str(tag)


def _ns(tag) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _canon(el) -> tuple:
    """A comparable form of an element's content, ids left out (tools renumber them)."""
    attrs = tuple(sorted((_local(k), v) for k, v in el.attrib.items() if _local(k) != "id"))
    return (_local(el.tag), attrs, (el.text or "").strip(),
            tuple(_canon(c) for c in el if isinstance(c.tag, str)))


def _text(el, path) -> str:
    found = el.find(path, {"bpmn": BPMN, "spiffworkflow": SPIFF})
    return (found.text or "").strip() if found is not None else ""


def _elements(xml: str) -> dict[str, dict]:
    root = specs.safe_xml(xml)
    lane_of = {}
    for lane in root.iter(f"{{{BPMN}}}lane"):
        for ref in lane.findall(f"{{{BPMN}}}flowNodeRef"):
            lane_of[(ref.text or "").strip()] = (lane.get("id"), lane.get("name") or lane.get("id"))
    messages = {m.get("id"): m.get("name") or m.get("id") for m in root.iter(f"{{{BPMN}}}message")}
    found = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or _ns(el.tag) != BPMN or not el.get("id"):
            continue
        parent = el.getparent()
        kind = _local(el.tag)
        if kind in ("definitions",) or parent is None or _local(parent.tag) not in _CONTAINERS:
            continue
        if kind in ("laneSet", "collaboration"):
            continue
        lane_id, lane_name = lane_of.get(el.get("id"), ("", ""))
        fields = {"type": kind, "name": el.get("name") or "", "lane": lane_id, "lane_name": lane_name,
                  "documentation": _text(el, "bpmn:documentation"),
                  "attributes": tuple(sorted((_local(k), v) for k, v in el.attrib.items()
                                             if _local(k) not in ("id", "name", "sourceRef", "targetRef"))),
                  "connection": (el.get("sourceRef") or "", el.get("targetRef") or "")}
        other, props, operator, timer, message = [], [], [], [], []
        condition = script = ""
        for child in el:
            if not isinstance(child.tag, str):
                continue
            name = _local(child.tag)
            if name in _SKIP_CHILDREN or name == "documentation":
                continue
            if _ns(child.tag) == BPMN and child.get("id") and kind in _CONTAINERS | {"subProcess", "transaction"}:
                continue  # a flow element inside a sub-process: diffed on its own
            if name == "extensionElements":
                for ext in child:
                    if not isinstance(ext.tag, str):
                        continue
                    if _local(ext.tag) == "properties":
                        props.append(_canon(ext))
                    elif _local(ext.tag) == "serviceTaskOperator":
                        operator.append(_canon(ext))
                    else:
                        other.append(_canon(ext))
            elif name == "conditionExpression":
                condition = (child.text or "").strip()
            elif name == "script":
                script = (child.text or "").strip()
            elif name == "timerEventDefinition":
                timer.append(_canon(child))
            elif name == "messageEventDefinition":
                message.append((messages.get(child.get("messageRef"), child.get("messageRef") or ""), _canon(child)))
            else:
                other.append(_canon(child))
        fields.update(properties=tuple(props), operator=tuple(operator), condition=condition, script=script,
                      timer=tuple(timer), message=tuple(message), other=tuple(other))
        found[el.get("id")] = fields
    return found


def _summary(element_id: str, fields: dict) -> dict:
    return {"id": element_id, "type": fields["type"], "type_label": str(TYPE_LABELS.get(fields["type"], fields["type"])),
            "name": fields["name"]}


def _shown(fields: dict, aspect: str) -> str:
    value = fields[aspect]
    if aspect == "message":
        return "、".join(name for name, _content in value)
    if aspect == "lane":
        return fields["lane_name"]
    if aspect == "connection":
        return " → ".join(value)
    if isinstance(value, tuple):
        return "" if not value else "…"
    return str(value)


def diff(old_xml: str, new_xml: str) -> dict:
    """{"added": [...], "removed": [...], "changed": [...]} between two BPMN sources; each
    changed entry lists its aspects with the old and new value where they read plainly."""
    old, new = _elements(old_xml), _elements(new_xml)
    added = [_summary(i, new[i]) for i in new if i not in old]
    removed = [_summary(i, old[i]) for i in old if i not in new]
    changed = []
    for element_id in new:
        if element_id not in old:
            continue
        aspects = [a for a in ASPECT_LABELS if old[element_id][a] != new[element_id][a]]
        if aspects:
            entry = _summary(element_id, new[element_id])
            entry["aspects"] = [{"key": a, "label": str(ASPECT_LABELS[a]), "before": _shown(old[element_id], a),
                                 "after": _shown(new[element_id], a)} for a in aspects]
            changed.append(entry)
    return {"added": added, "removed": removed, "changed": changed}
