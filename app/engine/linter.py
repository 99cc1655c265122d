"""The deploy-time linter: a model binds to the app only through names the app knows.

- every user task sits in a lane naming a role (code or Chinese name) and has a formKey
  that resolves to a WTForms class in forms/; an `assignee` names a registered assigner;
- every service task names a registered operator, with only its declared parameters;
- every script, condition, parameter and timer expression compiles under the sandbox;
- every message a catch event waits for is declared.
Returns a list of problems in the user's language; empty means deployable.
`lint_elements` gives the same problems with the id of the BPMN element each concerns
(None for the whole model), so the modeler can show them next to the diagram elements.
"""
from typing import NamedTuple

from flask_babel import gettext as _

from app.engine import registry, specs
from app.engine.scripting import check_compiles
from app.roles import role_for_lane

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
      "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}


class Problem(NamedTuple):
    element_id: str | None
    message: str


def _label(el) -> str:
    return f"“{el.get('name') or el.get('id')}”"


def _lanes(root) -> dict[str, str]:
    """element id → lane name."""
    lane_of = {}
    for lane in root.iter(f"{{{NS['bpmn']}}}lane"):
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            lane_of[(ref.text or "").strip()] = lane.get("name") or ""
    return lane_of


def _properties(el) -> dict:
    return {p.get("name"): p.get("value") for p in el.findall(
        "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}


def _check_expr(problems, where, source, mode="eval", element_id=None):
    for problem in check_compiles(source or "", mode):
        problems.append(Problem(element_id, _("%(where)s：%(problem)s", where=where, problem=problem)))


def lint(bpmn_xml: str, dmn_files: dict[str, str] | None = None) -> list[str]:
    return [p.message for p in lint_elements(bpmn_xml, dmn_files)]


def lint_elements(bpmn_xml: str, dmn_files: dict[str, str] | None = None) -> list[Problem]:
    problems: list[Problem] = []
    try:
        root = specs.safe_xml(bpmn_xml)
    except Exception as e:
        return [Problem(None, _("BPMN 文件不是有效的 XML：%(error)s", error=e))]
    if not specs.executable_process_ids(bpmn_xml):
        problems.append(Problem(None, _("没有可执行的流程（process isExecutable）。")))
    lane_of = _lanes(root)
    b = NS["bpmn"]

    for task in root.iter(f"{{{b}}}userTask"):
        lane = lane_of.get(task.get("id"))
        tid = task.get("id")
        if not lane:
            problems.append(Problem(tid, _("用户任务 %(task)s 不在任何泳道中。", task=_label(task))))
        elif role_for_lane(lane) is None:
            problems.append(Problem(tid, _("用户任务 %(task)s 所在泳道“%(lane)s”不是已知角色。", task=_label(task),
                                           lane=lane)))
        props = _properties(task)
        form_key = props.get("formKey")
        if not form_key:
            problems.append(Problem(tid, _("用户任务 %(task)s 没有指定表单（formKey）。", task=_label(task))))
        elif registry.resolve_form(form_key) is None:
            problems.append(Problem(tid, _("用户任务 %(task)s 的表单“%(form)s”不存在。", task=_label(task),
                                           form=form_key)))
        if props.get("due"):
            _check_expr(problems, _("用户任务 %(task)s 的期限", task=_label(task)), props["due"], element_id=tid)
        if props.get("assignee") and props["assignee"] not in registry.ASSIGNERS:
            problems.append(Problem(tid, _("用户任务 %(task)s 的办理人规则“%(name)s”未注册。", task=_label(task),
                                           name=props["assignee"])))

    for task in root.iter(f"{{{b}}}serviceTask"):
        tid = task.get("id")
        op_el = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
        if op_el is None:
            problems.append(Problem(tid, _("服务任务 %(task)s 没有指定服务操作。", task=_label(task))))
            continue
        op = registry.get_operator(op_el.get("id"))
        if op is None:
            problems.append(Problem(tid, _("服务任务 %(task)s 的服务操作“%(op)s”未注册。", task=_label(task),
                                           op=op_el.get("id"))))
            continue
        for param in op_el.findall("spiffworkflow:parameters/spiffworkflow:parameter", NS):
            if param.get("id") not in op.params:
                problems.append(Problem(tid, _("服务任务 %(task)s 的参数“%(param)s”不是该操作的参数。",
                                               task=_label(task), param=param.get("id"))))
            _check_expr(problems, _("服务任务 %(task)s 的参数", task=_label(task)), param.get("value"), element_id=tid)

    for script in root.iter(f"{{{b}}}scriptTask"):
        body = script.find("bpmn:script", NS)
        _check_expr(problems, _("脚本任务 %(task)s", task=_label(script)), body.text if body is not None else "", "exec",
                    element_id=script.get("id"))

    for flow in root.iter(f"{{{b}}}sequenceFlow"):
        cond = flow.find("bpmn:conditionExpression", NS)
        if cond is not None:
            _check_expr(problems, _("连线 %(flow)s 的条件", flow=_label(flow)), cond.text, element_id=flow.get("id"))

    for timer in root.iter(f"{{{b}}}timerEventDefinition"):
        for kind in ("timeDuration", "timeDate", "timeCycle"):
            expr = timer.find(f"bpmn:{kind}", NS)
            if expr is not None:
                _check_timer(problems, expr.text or "", _owner_id(timer))

    declared = set(registry.MESSAGES)
    for ref in root.iter(f"{{{b}}}messageEventDefinition"):
        message = next((m for m in root.iter(f"{{{b}}}message") if m.get("id") == ref.get("messageRef")), None)
        name = message.get("name") if message is not None else ref.get("messageRef")
        if name not in declared:
            problems.append(Problem(_owner_id(ref), _("消息“%(name)s”未在系统中声明。", name=name)))

    if problems:
        return problems
    try:
        specs.parse(bpmn_xml, dmn_files)
    except Exception as e:
        problems.append(Problem(getattr(e, "id", None) or None, _("流程无法解析：%(error)s", error=e)))
    return problems


def _owner_id(definition) -> str | None:
    """The event an event definition belongs to."""
    parent = definition.getparent()
    return parent.get("id") if parent is not None else None


def _check_timer(problems, source: str, element_id=None) -> None:
    from app.engine.timers import TimerExpressionError, parse_timer
    compile_problems = check_compiles(source, "eval")
    if compile_problems:
        problems.extend(Problem(element_id, _("定时器“%(expr)s”：%(p)s", expr=source, p=p)) for p in compile_problems)
        return
    try:
        parse_timer(source)
    except TimerExpressionError as e:
        problems.append(Problem(element_id, _("定时器“%(expr)s”无效：%(error)s", expr=source, error=e)))
