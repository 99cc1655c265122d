"""Sandbox test runs of a draft: a throw-away workflow, stepped through by hand.

Nothing here reaches a real case or the outside: the state is returned to the caller
(stored in the trial table, not process_instance or the inbox), service tasks never call
their operator (inline ones and external ones alike get a sandbox result naming the
operator and the parameters it would have received), timers fire when the tester says
so, and messages are delivered by the tester. Scripts and conditions run in the same
restricted script engine as real cases.
"""
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from app.engine import specs
from app.engine.runtime import script_helpers
from app.engine.scripting import RestrictedEnvironment, WuyeScriptEngine
from app.roles import role_for_lane

MAX_ROUNDS = 200  # steps of sandbox service calls in one go (a loop of service tasks ends here)


class TrialError(Exception):
    pass


def _sandbox_result(operation_name: str, params: dict) -> dict:
    return {"sandbox": True, "operator": operation_name, "params": params}


def _engine() -> WuyeScriptEngine:
    def stub(task, operation_name, params):
        return _sandbox_result(operation_name, params)

    return WuyeScriptEngine(environment=RestrictedEnvironment(helpers=script_helpers()), service_caller=stub)


def _name(task) -> str:
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name


def _run(wf: BpmnWorkflow, log: list) -> None:
    """Engine steps; external service calls answered by the sandbox; errors logged."""
    for _round in range(MAX_ROUNDS):
        try:
            wf.refresh_timers()
            wf.do_engine_steps()
        except WorkflowException as e:
            task = getattr(e, "task", None)
            log.append({"kind": "error", "task": _name(task) if task is not None else "", "message": str(e)})
            raise TrialError(str(e))
        pending = [t for t in wf.get_tasks(state=TaskState.STARTED) if t._get_internal_data(specs.EXTERNAL_CALL)]
        if not pending:
            return
        for task in pending:
            call = task._get_internal_data(specs.EXTERNAL_CALL)
            result = _sandbox_result(call["operator"], call["params"])
            task.data[call.get("result_variable") or "result"] = result
            task.complete()
            log.append({"kind": "service", "task": _name(task), "message": call["operator"], "data": call["params"]})


def _dump(wf: BpmnWorkflow) -> dict:
    return specs.serializer.to_dict(wf)


def _load(state: dict) -> BpmnWorkflow:
    wf = specs.serializer.from_dict(dict(state))
    wf.script_engine = _engine()
    return wf


def start(bpmn_xml: str, dmn_files: dict, data: dict) -> tuple[dict, list, str]:
    """(state, log, status) of a new sandbox run with `data` as the start data."""
    spec, subs = specs.parse(bpmn_xml, dmn_files)
    wf = BpmnWorkflow(spec, subs, script_engine=_engine())
    for task in wf.get_tasks(state=TaskState.READY):
        task.data.update(data or {})
    log = [{"kind": "started", "task": "", "message": "", "data": data or {}}]
    status = "running"
    try:
        _run(wf, log)
    except TrialError:
        status = "error"
    return _dump(wf), log, ("completed" if wf.is_completed() else status)


def view(state: dict) -> dict:
    """What the tester can act on: ready user tasks, waiting timers and messages, the data."""
    wf = _load(state)
    ready = [{"id": str(t.id), "spec": t.task_spec.bpmn_id, "name": _name(t), "lane": t.task_spec.lane or "",
              "role": role_for_lane(t.task_spec.lane) or "",
              "form_key": ((getattr(t.task_spec, "extensions", None) or {}).get("properties") or {}).get("formKey", ""),
              "data": t.data}
             for t in wf.get_tasks(state=TaskState.READY, manual=True)]
    waiting = []
    for t in wf.event_manager.tasks.values() if hasattr(wf, "event_manager") else []:
        definition = t.task_spec.event_definition
        if isinstance(definition, TimerEventDefinition):
            waiting.append({"id": str(t.id), "spec": t.task_spec.bpmn_id, "name": _name(t), "kind": "timer",
                            "detail": str(definition.details(t).value or "")})
        elif isinstance(definition, MessageEventDefinition):
            waiting.append({"id": str(t.id), "spec": t.task_spec.bpmn_id, "name": _name(t), "kind": "message",
                            "detail": definition.name})
    done = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED) if getattr(t.task_spec, "bpmn_id", None)]
    last = ready[0]["data"] if ready else (wf.last_task.data if wf.last_task is not None else {})
    return {"ready": ready, "waiting": waiting, "completed": wf.is_completed(), "done": sorted(set(done)),
            "active": sorted({r["spec"] for r in ready}), "waiting_specs": sorted({w["spec"] for w in waiting}),
            "data": last}


def step(state: dict, action: str, target: str, data: dict, log: list) -> tuple[dict, str]:
    """Complete a ready user task, fire a waiting timer or deliver a waiting message."""
    import uuid
    wf = _load(state)
    try:
        task = wf.get_task_from_id(uuid.UUID(target))
    except Exception:
        task = None
    if task is None:
        raise TrialError("no such task")
    if action == "complete":
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise TrialError("task not ready")
        task.data.update(data or {})
        task.run()
        log.append({"kind": "completed", "task": _name(task), "message": "", "data": data or {}})
    elif action == "timer":
        if not isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
            raise TrialError("not a timer")
        task._set_internal_data(event_fired=True)
        log.append({"kind": "timer", "task": _name(task), "message": ""})
    elif action == "message":
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, MessageEventDefinition):
            raise TrialError("not a message")
        wf.send_event(BpmnEvent(definition, payload=data or {}))
        log.append({"kind": "message", "task": _name(task), "message": definition.name, "data": data or {}})
    else:
        raise TrialError("unknown action")
    status = "running"
    try:
        _run(wf, log)
    except TrialError:
        status = "error"
    return _dump(wf), ("completed" if wf.is_completed() else status)
