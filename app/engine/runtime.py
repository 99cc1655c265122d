"""Running process instances: the only code that touches BpmnWorkflow objects.

Every public function is one database transaction: load the instance (its state and the
version's cached spec), act, run engine steps, project the inbox, timers, message
subscriptions and external calls, save with the optimistic lock, commit. Two people
completing one task at once: the second save finds a newer lock version and gets Conflict.
"""
import logging
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cache, lru_cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import NoInspectionAvailable
from sqlalchemy.orm import joinedload, undefer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from app import jobs
from app.engine import combined, registry, specs
from app.engine.calendar import now as calendar_now
from app.engine.scripting import RestrictedEnvironment, WuyeScriptEngine
from app.extensions import db, lock_for_writing
from app.i18n import in_default_language
from app.models import (HumanTask, InstanceEvent, MessageSubscription, ProcessInstance, ProcessModel,
                        ProcessModelVersion, ServiceCall)
from app.models.base import utcnow
from app.roles import role_for_lane
from app.services.errors import Conflict, NotFound, ServiceError

log = logging.getLogger(__name__)
OPEN_STATUSES = ("running", "waiting", "error", "suspended")


class EngineError(ServiceError):
    status = 422
    code = "engine_error"


# ---------------------------------------------------------------- loading and saving

def script_helpers() -> dict:
    from app.engine.calendar import script_helpers as calendar_helpers
    return calendar_helpers()


def _call_inline(task, operation_name, params):
    """The script engine's service caller: an inline operator, in the case's transaction.
    A failing operator leaves nothing half-applied (its savepoint is rolled back) and puts
    the case in error at its task, as a failing script does: the user's completion before it
    stands, a supervisor sees the message and retries. It runs in the default language: what
    it writes is the case's record, read by others (`in_default_language`)."""
    instance = task.workflow.top_workflow.wuye_instance
    op = registry.get_operator(operation_name)
    ctx = registry.OperatorContext(instance.id, instance.business_key, instance.subject_type,
                                   instance.subject_id, call_key=f"inline-{instance.id}-{task.id}")
    _write_task_done()  # the operator may read what the completed task decided
    try:
        if op is None:
            raise EngineError(_("未注册的服务操作：%(name)s", name=operation_name))
        with db.session.begin_nested(), in_default_language():
            return op.func(ctx, **params) or {}
    except (Conflict, StaleDataError):
        raise  # someone else changed the case meanwhile: the user retries, no incident
    except Exception as e:
        message = e.message if isinstance(e, ServiceError) else f"{type(e).__name__}: {e}"
        raise WorkflowTaskException(message, task=task, exception=e) from e


@lru_cache(maxsize=1)
def _script_engine() -> WuyeScriptEngine:
    """One sandboxed engine per process: it keeps no state between scripts, and the case an
    inline operator runs for is the workflow's `wuye_instance`."""
    return WuyeScriptEngine(environment=RestrictedEnvironment(helpers=script_helpers()), service_caller=_call_inline)


def _load(instance: ProcessInstance) -> BpmnWorkflow:
    wf = specs.state_from_dict(instance.state, instance.version_id, instance.version.checksum,
                               script_engine=_script_engine())
    wf.wuye_instance = instance
    wf.wuye_subscribed = _message_names(wf)
    return wf


def _message_names(wf: BpmnWorkflow) -> list[str]:
    return sorted({e.name for e in wf.waiting_events() if e.event_type == "MessageEventDefinition"})


def _id_of(obj) -> int | None:
    """An ORM object's primary key without loading it (it may be expired after a commit)."""
    if obj is None:
        return None
    try:
        identity = sa_inspect(obj).identity
    except NoInspectionAvailable:
        identity = None
    return identity[0] if identity else getattr(obj, "id", None)


def _dump(wf: BpmnWorkflow) -> dict:
    return specs.state_to_dict(wf)


_EVENT_BUFFER = "wuye_instance_events"  # session.info key: a batch collects its timeline rows here


def _event(instance, kind, *, task=None, task_name="", actor=None, on_behalf_of=None, data=None, message=""):
    """`task_name` names the task when the workflow is not loaded (an external call's job)."""
    row = dict(instance_id=instance.id, kind=kind, actor_id=_id_of(actor), on_behalf_of_id=_id_of(on_behalf_of),
               task_spec=task.task_spec.bpmn_id or "" if task is not None else "",
               task_name=(task.task_spec.bpmn_name or task.task_spec.bpmn_id or "") if task is not None else task_name,
               data=data, message=message or "")
    buffer = db.session.info.get(_EVENT_BUFFER)
    if buffer is not None:
        buffer.append({**row, "at": utcnow()})
    else:
        db.session.add(InstanceEvent(**row))


def _step(instance: ProcessInstance, wf: BpmnWorkflow) -> None:
    """Run engine steps, recording timers and messages that fired; a failing script or
    operator puts the instance in error with its task and message."""

    def did_complete(task):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            _event(instance, "timer_fired", task=task)

    try:
        wf.refresh_timers()
        wf.do_engine_steps(did_complete_task=did_complete)
    except WorkflowException as e:
        task = getattr(e, "task", None)
        name = (task.task_spec.bpmn_name or task.task_spec.bpmn_id) if task is not None else ""
        instance.status = "error"
        instance.incident = str(e)
        instance.incident_task = name
        _event(instance, "incident", task=task, message=str(e))


def _task_properties(task) -> dict:
    return (getattr(task.task_spec, "extensions", None) or {}).get("properties", {}) or {}


def _timer_deadline(value) -> datetime | None:
    if isinstance(value, dict):
        value = value.get("next")
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _due_for(task, wf: BpmnWorkflow) -> datetime | None:
    """A user task's due time: its `due` property, else a boundary timer on it."""
    due = _task_properties(task).get("due")
    if due:
        try:
            value = wf.script_engine.evaluate(task, due)
            return _timer_deadline(value)
        except Exception:  # a bad due expression must not block the case; the linter reports it
            log.warning("due expression %r failed on %s", due, task.task_spec.bpmn_id)
    deadlines = []
    for waiting in wf.event_manager.tasks.values():
        if waiting.parent is task.parent and isinstance(waiting.task_spec.event_definition, TimerEventDefinition):
            deadlines.append(_timer_deadline(waiting.task_spec.event_definition.details(waiting).value))
    deadlines = [d for d in deadlines if d]
    return min(deadlines) if deadlines else None


def _task_role(task, lane: str) -> str:
    """The lane's role, unless the task's `roleVariable` property names a task-data variable
    holding a role code: one multi-instance task per department, each for that department."""
    variable = _task_properties(task).get("roleVariable")
    if variable and role_for_lane(str(task.data.get(variable, ""))):
        return role_for_lane(str(task.data[variable]))
    return role_for_lane(lane) or lane


def _queue_external_calls(instance: ProcessInstance, wf: BpmnWorkflow, started: list) -> None:
    """An external service task that started waits for a worker job: record the call once."""
    for task in started:
        call = task._get_internal_data(specs.EXTERNAL_CALL)
        if not call or call.get("queued"):
            continue
        op = registry.get_operator(call["operator"])
        row = ServiceCall(instance_id=instance.id, task_uuid=str(task.id), operator=call["operator"],
                          task_name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                          params=call["params"], max_attempts=op.max_attempts if op else 3)
        db.session.add(row)
        db.session.flush()
        call["queued"] = True
        call["call_id"] = row.id
        _event(instance, "service_call_queued", task=task, data={"operator": call["operator"], "call_id": row.id})
        jobs.enqueue("workers.engine.run_service_call", row.id, queue="default")


def _project_instance(instance: ProcessInstance, wf: BpmnWorkflow, ready: dict) -> None:
    """The instance's own columns: next timer due and status."""
    deadlines = [_timer_deadline(t.task_spec.event_definition.details(t).value)
                 for t in wf.event_manager.tasks.values()
                 if isinstance(t.task_spec.event_definition, TimerEventDefinition)]
    deadlines = [d for d in deadlines if d]
    instance.next_timer_at = min(deadlines) if deadlines else None
    if instance.status not in ("error", "suspended", "terminated"):
        if wf.is_completed():
            instance.status = "completed"
            instance.ended_at = instance.ended_at or utcnow()
            _event(instance, "completed")
        else:
            instance.status = "running" if ready else "waiting"


class _InboxWrites:
    """Inbox rows to open and to cancel, collected over one instance or a batch of them
    and written together (new rows get their ids in one INSERT, then their notifications)."""

    def __init__(self):
        self.opened: list[dict] = []  # the new rows' columns
        self.gone: list[str] = []

    def write(self) -> None:
        if self.gone:  # e.g. an interrupting boundary timer took the token
            with db.session.no_autoflush:  # nothing else need be written first; the flush below writes it
                db.session.execute(db.update(HumanTask).where(HumanTask.task_uuid.in_(self.gone),
                                                              HumanTask.status == "open")
                                   .values(status="cancelled", completed_at=utcnow())
                                   .execution_options(synchronize_session="fetch"))
        if self.opened:
            from app.services import notify
            with db.session.no_autoflush:  # the rows refer to nothing unwritten (their case has its id)
                ids = db.session.scalars(_inbox_insert(), self.opened).all()
            notify.tasks_opened(self.opened, ids)
        db.session.flush()
        self.opened, self.gone = [], []


@cache
def _inbox_insert():
    """New inbox rows in one INSERT returning their ids in the order given (the table's
    defaults fill the rest): through the unit of work the same row cost about a tenth of a
    completion on PostgreSQL (docs/performance.md)."""
    table = HumanTask.__table__
    return table.insert().returning(table.c.id, sort_by_parameter_order=True)


_TASK_DONE = "wuye_task_done"  # session.info key: the completed task's UPDATE, not yet sent


def _mark_completed(row: HumanTask, actor, on_behalf_of, data: dict) -> None:
    """The task row as completed, in the session now and in the database with the case's
    row (`_written_together`; on PostgreSQL in the same statement), or before an inline
    operator runs, since it may read what the task decided (`_write_task_done`). Not through
    the unit of work: its flush of this one row took about a sixth of a completion on
    PostgreSQL (docs/performance.md)."""
    values = dict(status="completed", completed_at=utcnow(), completed_by_id=_id_of(actor),
                  completed_for_id=_id_of(on_behalf_of), completed_data=data, draft=None)
    for key, value in values.items():  # what the database will hold
        set_committed_value(row, key, value)
    db.session.info[_TASK_DONE] = (row.id, values)


def _write_task_done() -> None:
    """Send the completed task's UPDATE, if one waits (see `_mark_completed`)."""
    done = db.session.info.pop(_TASK_DONE, None)
    if done is not None:
        db.session.execute(_task_row_update(tuple(done[1])), {"_id": done[0], **done[1]})


@cache
def _task_row_update(keys: tuple[str, ...]):
    """The UPDATE of these columns of one inbox row, built once per set of columns."""
    table = HumanTask.__table__
    return table.update().where(table.c.id == db.bindparam("_id")).values({key: db.bindparam(key) for key in keys})


def _assignee(instance: ProcessInstance, task) -> int | None:
    """The user a task's `assignee` property (a registered assigner) gives it to, if any."""
    name = _task_properties(task).get("assignee")
    entry = registry.ASSIGNERS.get(name) if name else None
    return entry[0](instance) if entry else None


def _project_inbox(instance: ProcessInstance, wf: BpmnWorkflow, ready: dict, writes: _InboxWrites) -> None:
    """Keep the inbox and the message subscriptions in step (the inbox rows through `writes`)."""
    open_uuids = getattr(wf, "wuye_open", None)  # read with the instance, in the same statement
    if open_uuids is None:
        open_uuids = set(db.session.scalars(db.select(HumanTask.task_uuid).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open")))
    writes.gone.extend(task_uuid for task_uuid in open_uuids if task_uuid not in ready)
    for task_uuid, task in ready.items():
        if task_uuid in open_uuids:
            continue
        lane = task.task_spec.lane or ""
        assignee = _assignee(instance, task)
        writes.opened.append(dict(
            instance_id=instance.id, task_uuid=task_uuid, spec_id=task.task_spec.bpmn_id,
            name=task.task_spec.bpmn_name or task.task_spec.bpmn_id, lane=lane,
            role=_task_role(task, lane), form_key=_task_properties(task).get("formKey", ""),
            title=instance.title, model_key=instance.model_key, enterprise_id=instance.enterprise_id,
            community_id=instance.community_id, street_office_id=instance.street_office_id,
            bank_id=instance.bank_id, device_supplier_id=instance.device_supplier_id, due_at=_due_for(task, wf),
            claimed_by_id=assignee, claimed_at=utcnow() if assignee else None))
    wf.wuye_open = set(ready)

    subscribed = _message_names(wf)
    if subscribed != getattr(wf, "wuye_subscribed", None):
        db.session.execute(db.delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
        for name in subscribed:
            db.session.add(MessageSubscription(instance_id=instance.id, message_name=name,
                                               correlation_key=instance.business_key))
        wf.wuye_subscribed = subscribed


def _save(instance: ProcessInstance, wf: BpmnWorkflow, writes: _InboxWrites | None = None) -> None:
    """Save the state under the optimistic lock first, so that a concurrent save of the same
    case fails here (Conflict) before it writes inbox rows; then project the inbox. With
    `writes` (see `_written_together`) the caller writes the instance and the rows."""
    try:
        active = wf.get_tasks(state=TaskState.READY | TaskState.STARTED)  # one walk of the task tree
        ready = {str(t.id): t for t in active if t.state == TaskState.READY and t.task_spec.manual}
        _queue_external_calls(instance, wf, [t for t in active if t.state == TaskState.STARTED])
        _project_instance(instance, wf, ready)
        instance.state = _dump(wf)
        instance.serializer_version = specs.SERIALIZER_VERSION
        if writes is not None:
            _project_inbox(instance, wf, ready, writes)
            return
        db.session.flush()
        writes = _InboxWrites()
        _project_inbox(instance, wf, ready, writes)
        writes.write()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(_("该案件已被他人更新，请刷新后重试。"))


@contextmanager
def _transaction():
    """Commit on success; on any error roll back everything, so nothing is half-applied."""
    try:
        yield
        if db.session().in_transaction():  # else the body committed itself (`_commit_keeping`)
            db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(_("该案件已被他人更新，请刷新后重试。"))
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.info.pop(_TASK_DONE, None)  # written by now, or rolled back with the rest


def _commit_keeping(instance: ProcessInstance) -> None:
    """Commit, leaving the case and its version loaded, everything else expired as usual.
    They hold what was just committed under the case's lock, and whoever advanced the case
    reads it next (the API answers a completion with the case): a refresh would be one more
    statement, ~8 % of an API completion on PostgreSQL (docs/performance.md). Not when the
    commit sends jobs: in-process ones run at once and may change the case (an external call)."""
    session = db.session()
    if session.info.get(jobs.PENDING_KEY):
        session.commit()
        return
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    kept = {sa_inspect(instance), sa_inspect(instance.version)}
    for state in session.identity_map.all_states():  # as `Session.expire_all` does, without the two
        if state not in kept:
            state._expire(state.dict, session.identity_map._modified)


def get_instance(instance_id: int, *, lock: bool = False) -> ProcessInstance:
    """With `lock`, the case's row is locked until the transaction ends (FOR NO KEY UPDATE on
    PostgreSQL) and read as committed once the lock is had: whoever changes the case next
    waits for the one changing it now, instead of failing on the optimistic lock (on SQLite
    the database's write lock is taken before the read: `lock_for_writing`)."""
    if lock:
        lock_for_writing()
    instance = db.session.get(ProcessInstance, instance_id,
                              options=[joinedload(ProcessInstance.version), undefer(ProcessInstance.state)],
                              **({"with_for_update": {"of": ProcessInstance, "key_share": True},
                                  "populate_existing": True} if lock else {}))
    if instance is None:
        raise NotFound(_("案件不存在。"))
    return instance


# ---------------------------------------------------------------- public operations

def latest_version(model_key: str) -> ProcessModelVersion:
    version = db.session.scalar(
        db.select(ProcessModelVersion).join(ProcessModel)
        .where(ProcessModel.key == model_key, ProcessModelVersion.status == "deployed")
        .order_by(ProcessModelVersion.number.desc()).limit(1))
    if version is None:
        raise NotFound(_("流程“%(key)s”尚未部署。", key=model_key))
    return version


def start(model_key: str, *, business_key: str = "", title: str = "", data: dict | None = None, actor=None,
          subject=None, orgs: dict | None = None) -> ProcessInstance:
    """Start a case on the latest deployed version. `subject` is the domain object;
    `orgs` names enterprise_id / community_id / street_office_id / bank_id /
    device_supplier_id the case belongs to (who may see and act on it)."""
    version = latest_version(model_key)
    with _transaction():
        instance = ProcessInstance(
            version_id=version.id, model_key=model_key, business_key=business_key or uuid.uuid4().hex[:12],
            title=title or version.model.name, subject_type=type(subject).__name__ if subject is not None else "",
            subject_id=getattr(subject, "id", None), started_by_id=getattr(actor, "id", None), state={},
            serializer_version=specs.SERIALIZER_VERSION, **(orgs or {}))
        db.session.add(instance)
        db.session.flush()
        spec, subs = specs.cached_parsed(version.id, version.checksum)
        wf = BpmnWorkflow(spec, subs, script_engine=_script_engine())
        wf.wuye_instance = instance
        wf.wuye_subscribed, wf.wuye_open = [], set()  # a new case has no subscription or inbox rows yet
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data or {})
        _event(instance, "started", actor=actor, data={"version": version.number, **(data or {})})
        _step(instance, wf)
        _save(instance, wf)
    return instance


def _open_instance(instance_id: int) -> tuple[ProcessInstance, BpmnWorkflow]:
    """The case to advance, locked (see `get_instance`), with its workflow."""
    instance = get_instance(instance_id, lock=True)
    if instance.status in ("completed", "terminated"):
        raise Conflict(_("该案件已结束。"))
    return instance, _load(instance)


def _ready_task(wf: BpmnWorkflow, task_uuid: str):
    try:
        task = wf.get_task_from_id(uuid.UUID(task_uuid))
    except Exception:
        task = None
    if task is None or task.state != TaskState.READY:
        return None
    return task


@cache
def _task_and_instance_queries() -> tuple:
    """Built once, run with parameters: building these statements costs SQLAlchemy more than
    running them. The first locks the case; the second, a statement of its own so that it
    reads what was committed while it waited, reads and locks the task and the case's open
    tasks (after the case, in the timer job's order)."""
    task_id = db.bindparam("task_id")
    of_task = db.select(HumanTask.instance_id).where(HumanTask.id == task_id).scalar_subquery()
    instance = (db.select(ProcessInstance).where(ProcessInstance.id == of_task)
                .options(joinedload(ProcessInstance.version), undefer(ProcessInstance.state))
                # FOR NO KEY UPDATE on PostgreSQL (SQLite writes one transaction at a time and
                # leaves the clause out): the lock the UPDATE itself takes, so that rows that
                # merely refer to the case (a comment, an attachment) are not held up.
                .with_for_update(of=ProcessInstance, key_share=True)
                .execution_options(populate_existing=True))
    tasks = (db.select(HumanTask).where(HumanTask.instance_id == db.bindparam("instance_id"),
                                        db.or_(HumanTask.id == task_id, HumanTask.status == "open"))
             .with_for_update(key_share=True)  # a claim of one of them waits, as it waits for us (`_open_task`)
             .execution_options(populate_existing=True))
    return instance, tasks


def _task_and_instance(human_task_id: int) -> tuple[HumanTask, ProcessInstance, set[str]]:
    """The task row, its instance (locked until the transaction ends, so that a completion
    waits for the timer job or another completion of the same case instead of meeting it in
    a deadlock or on the optimistic lock) with the version, and the uuids of the instance's
    open tasks (what the projection compares with)."""
    instance_query, tasks_query = _task_and_instance_queries()
    lock_for_writing()  # SQLite's stand-in for the row locks below
    instance = db.session.scalar(instance_query, {"task_id": human_task_id})
    rows = [] if instance is None else db.session.scalars(
        tasks_query, {"task_id": human_task_id, "instance_id": instance.id}).all()
    row = next((task for task in rows if task.id == human_task_id), None)
    if row is None:
        raise NotFound(_("任务不存在。"))
    return row, instance, {task.task_uuid for task in rows if task.status == "open"}


def complete_task(human_task_id: int, data: dict | None, actor, *, on_behalf_of=None,
                  prepare: Callable[[HumanTask], tuple[dict, object]] | None = None) -> ProcessInstance:
    """Complete a ready user task with already validated, JSON-safe form data. A caller that
    checks the task first (who may act on it, its form) passes instead `prepare(row) ->
    (data, on_behalf_of)`: it runs first, on the row as it is under the case's lock, so a
    claim or a reassignment committed meanwhile is seen; what it raises changes nothing."""
    with _transaction():
        row, instance, open_uuids = _task_and_instance(human_task_id)
        if prepare is not None:
            data, on_behalf_of = prepare(row)
        if row.status == "completed":
            raise Conflict(_("该任务已经办理完毕，无需重复提交。"))
        if row.status != "open":
            raise Conflict(_("该任务已因期限届满或流程变化而关闭。"))
        if instance.status in ("completed", "terminated"):
            raise Conflict(_("该案件已结束。"))
        if instance.status == "suspended":
            raise Conflict(_("该案件已暂停，暂不能办理。"))
        wf = _load(instance)
        wf.wuye_open = open_uuids
        # Timers first: a task whose deadline passed is no longer there to complete.
        if instance.next_timer_at is not None and instance.next_timer_at <= calendar_now():
            _step(instance, wf)
        task = _ready_task(wf, row.task_uuid)
        if task is None:
            _save(instance, wf)
            db.session.commit()
            raise Conflict(_("该任务已因期限届满或流程变化而关闭。"))
        task.data.update(data)
        task.run()
        _mark_completed(row, actor, on_behalf_of, data)
        wf.wuye_open = open_uuids - {row.task_uuid}
        with _written_together([instance]) as writes:
            _event(instance, "task_completed", task=task, actor=actor, on_behalf_of=on_behalf_of, data=data)
            _step(instance, wf)
            _save(instance, wf, writes)
        from app.services import notify
        notify.decision_made(row, data, actor)
        _commit_keeping(instance)
    return instance


def deliver_message(name: str, correlation_key: str, payload: dict | None = None, *, message_id: str = "") -> dict:
    """Wake the instance waiting for message `name` with this correlation key.

    A repeated delivery (same message id, or the instance already took this message) is
    harmless; a message nobody waits for is recorded and refused."""
    from app.services import audit
    with _transaction():
        sub = db.session.scalar(db.select(MessageSubscription).where(
            MessageSubscription.message_name == name, MessageSubscription.correlation_key == correlation_key)
            .order_by(MessageSubscription.id).limit(1))
        if sub is None:
            previous = db.session.scalar(
                db.select(InstanceEvent).join(ProcessInstance, InstanceEvent.instance_id == ProcessInstance.id)
                .where(ProcessInstance.business_key == correlation_key, InstanceEvent.kind == "message_received",
                       InstanceEvent.task_spec == name).limit(1))
            if previous is not None and (not message_id or (previous.data or {}).get("message_id") in (message_id, None)):
                return {"status": "duplicate", "instance_id": previous.instance_id}
            audit.record("engine.message_unmatched", target_type="Message", target_id=name,
                         after={"correlation_key": correlation_key, "message_id": message_id, "payload": payload})
            db.session.commit()
            raise NotFound(_("没有案件在等待消息“%(name)s”（关联键 %(key)s）。", name=name, key=correlation_key))
        instance, wf = _open_instance(sub.instance_id)
        waiting = [t for t in wf.event_manager.tasks.values()
                   if isinstance(t.task_spec.event_definition, MessageEventDefinition)
                   and t.task_spec.event_definition.name == name]
        if not waiting:
            raise Conflict(_("案件不再等待该消息。"))
        wf.send_event(BpmnEvent(waiting[0].task_spec.event_definition, payload=payload or {}))
        db.session.add(InstanceEvent(instance_id=instance.id, kind="message_received", task_spec=name,
                                     task_name=name, data={"message_id": message_id, "payload": payload or {}}))
        _step(instance, wf)
        _save(instance, wf)
    return {"status": "delivered", "instance_id": instance.id}


def advance_timers(instance_id: int, *, due_at: datetime | None = None) -> bool:
    """Advance one instance's timers. With `due_at` (the timer job) the instance is first
    claimed: still due, and not being advanced by another worker (its row lock skipped on
    PostgreSQL), else it is left alone and False returned."""
    with _transaction():
        if due_at is not None and not _claim_due(instance_id, due_at):
            return False
        instance, wf = _open_instance(instance_id)
        if instance.status in ("suspended", "error"):
            return False
        _step(instance, wf)
        _save(instance, wf)
    return True


def _claim_due(instance_id: int, now: datetime) -> bool:
    """Lock the instance row until this transaction ends if its timer is still due. Two
    workers that picked the same ids then split them instead of both doing the work and
    one losing on the optimistic lock."""
    query = db.select(ProcessInstance.id).where(ProcessInstance.id == instance_id, *_due(now))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, key_share=True)  # NO KEY UPDATE: see _advance_batch
    return db.session.scalar(query) is not None


def _due(now: datetime):
    return (ProcessInstance.next_timer_at <= now, ProcessInstance.status.in_(("running", "waiting")))


def due_timer_instance_ids(now: datetime, limit: int = 200) -> list[int]:
    """Instances whose next timer is due, through the index; rows another worker is
    already advancing are skipped (SKIP LOCKED on PostgreSQL)."""
    query = db.select(ProcessInstance.id).where(*_due(now)).order_by(ProcessInstance.next_timer_at).limit(limit)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, key_share=True)
    return list(db.session.scalars(query))


def advance_due_timers(now: datetime | None = None, limit: int = 200) -> int:
    """The periodic job: advance up to `limit` instances whose timer is due. Safe to run
    twice and on several workers at once.

    The batch is one transaction: its instances are claimed with their rows locked (rows
    another worker holds are skipped), advanced in memory and written back together. If
    anything in the batch fails, it is rolled back and its instances are advanced one by
    one, each in its own transaction, so one broken case cannot hold back the others; the
    broken one shows an incident."""
    now = now or calendar_now()  # the engine clock, which tests and drills may set
    try:
        return _advance_batch(now, limit)
    except Exception:
        db.session.rollback()
        log.exception("due timers: the batch failed, advancing its instances one by one")
    count = 0
    ids = due_timer_instance_ids(now, limit)
    db.session.commit()  # release the selection's locks: each instance is claimed in its own transaction
    for instance_id in ids:
        try:
            count += advance_timers(instance_id, due_at=now)
        except Conflict:
            pass  # someone else advanced it meanwhile: fine
        except Exception as e:
            db.session.rollback()
            log.exception("due timers: instance %s failed", instance_id)
            _timer_incident(instance_id, e)
    return count


def _advance_batch(now: datetime, limit: int) -> int:
    with _transaction():
        query = (db.select(ProcessInstance).options(undefer(ProcessInstance.state)).where(*_due(now))
                 .order_by(ProcessInstance.next_timer_at).limit(limit))
        if db.engine.dialect.name == "postgresql":
            # NO KEY UPDATE, the lock a completion takes (see _task_and_instance_queries): rows
            # that merely refer to a case, a comment or an attachment, are not held up meanwhile.
            query = query.with_for_update(skip_locked=True, of=ProcessInstance, key_share=True)
        instances = db.session.scalars(query).all()
        if not instances:
            return 0
        open_uuids = {instance.id: set() for instance in instances}
        for instance_id, task_uuid in db.session.execute(db.select(HumanTask.instance_id, HumanTask.task_uuid).where(
                HumanTask.instance_id.in_(list(open_uuids)), HumanTask.status == "open")):
            open_uuids[instance_id].add(task_uuid)
        with _written_together(instances) as writes:
            for instance in instances:
                wf = _load(instance)
                wf.wuye_open = open_uuids[instance.id]
                _step(instance, wf)
                _save(instance, wf, writes)
    return len(instances)


@contextmanager
def _written_together(instances: list[ProcessInstance]):
    """Collect the cases' timeline rows and inbox rows while they are advanced in memory,
    then write them with a few statements: the instances' versioned UPDATEs first (a case
    changed meanwhile fails here, before any inbox row is written), then the timeline in one
    executemany INSERT (the ORM would ask for every row's id), then the inbox rows."""
    writes, events = _InboxWrites(), []
    db.session.info[_EVENT_BUFFER] = events
    try:
        yield writes
    finally:
        db.session.info.pop(_EVENT_BUFFER)
    if len(instances) == 1 and _written_in_one_statement(instances[0], events, writes):
        return
    _write_task_done()
    _update_locked(instances)
    if events:
        with db.session.no_autoflush:  # the inbox rows' flush comes next, in `writes.write()`
            db.session.execute(InstanceEvent.__table__.insert(), events)
    writes.write()


def _written_in_one_statement(instance: ProcessInstance, events: list[dict], writes: _InboxWrites) -> bool:
    """On PostgreSQL, one case's rows in one statement (`app/engine/combined.py`): the
    completed task, the case under its lock version, its timeline, its new inbox rows and
    their notifications. False, having written nothing, where that does not apply (SQLite;
    inbox rows to cancel, which a timer's rare path leaves to the statements of their own)."""
    changed = dict(sorted(_changed_columns(instance).items()))  # sorted: one statement per set of columns
    if db.engine.dialect.name != "postgresql" or writes.gone or not changed:
        return False
    from app.services import notify
    moment = utcnow()
    tasks = [{**row, "status": "open", "created_at": moment} for row in writes.opened]
    if not combined.write(instance.id, instance.lock_version, changed, db.session.info.pop(_TASK_DONE, None),
                          events, tasks, notify.new_task_notices(tasks), moment):
        raise StaleDataError("the instance changed meanwhile")
    _now_committed(instance, changed)
    writes.opened = []
    db.session.flush()  # what the unit of work still holds (a message subscription, a service call)
    return True


def _changed_columns(instance: ProcessInstance) -> dict:
    """The instance's columns set since it was loaded (its `committed_state`), with their values."""
    state = sa_inspect(instance)
    return {key: state.dict[key] for key in state.committed_state if key in _INSTANCE_COLUMNS}


def _now_committed(instance: ProcessInstance, changed: dict) -> None:
    """After our own UPDATE of the instance: the session holds what the database holds, and,
    with nothing else pending on it, the instance is clean (else every later flush in the
    transaction would walk the unit of work for it, to find nothing to write)."""
    for key, value in changed.items():
        set_committed_value(instance, key, value)
    set_committed_value(instance, "lock_version", instance.lock_version + 1)
    state = sa_inspect(instance)
    if not state.committed_state:
        state._commit_all(state.dict, db.session().identity_map)  # SQLAlchemy's own "now clean"


_INSTANCE_COLUMNS = frozenset(c.key for c in ProcessInstance.__table__.columns) - {"id", "lock_version"}


def _update_locked(instances: list[ProcessInstance]) -> None:
    """Write changed instances with one executemany UPDATE per set of changed columns,
    checking and moving the lock version as the ORM's versioned UPDATE does (which would
    send one statement per row, each through the unit of work)."""
    groups: dict[tuple, list] = {}
    for instance in instances:
        changed = _changed_columns(instance)
        if changed:
            groups.setdefault(tuple(sorted(changed)), []).append((instance, changed))
    for keys, rows in groups.items():
        with db.session.no_autoflush:  # else the ORM would first write them one by one
            result = db.session.execute(_locked_update(keys), [{"_id": instance.id, "_lock": instance.lock_version,
                                                                **changed} for instance, changed in rows])
        if result.rowcount != len(rows):
            raise StaleDataError(f"{len(rows) - result.rowcount} of {len(rows)} instances changed meanwhile")
        for instance, changed in rows:
            _now_committed(instance, changed)


@cache
def _locked_update(keys: tuple[str, ...]):
    """The versioned UPDATE of these columns, built once per set of columns."""
    table = ProcessInstance.__table__
    return (table.update()
            .where(table.c.id == db.bindparam("_id"), table.c.lock_version == db.bindparam("_lock"))
            .values({**{key: db.bindparam(key) for key in keys}, "lock_version": table.c.lock_version + 1}))


def _timer_incident(instance_id: int, error: Exception) -> None:
    """A case whose timer could not be advanced leaves the timer job's way with an incident
    (a supervisor retries it from the case page)."""
    with _transaction():
        instance = get_instance(instance_id, lock=True)
        if instance.status not in ("running", "waiting"):
            return
        instance.status = "error"
        instance.incident = f"{type(error).__name__}: {error}"[:2000]
        instance.incident_task = ""
        _event(instance, "incident", message=instance.incident)


# ---------------------------------------------------------------- external service calls

def run_service_call(call_id: int) -> None:
    """The worker job for an external service task: call the operator outside any
    transaction, then resume the instance with the result. A failure retries with
    backoff; after the last attempt the instance shows an incident."""
    # Claim the call atomically: of two jobs for one call (a retry and a sweep, say), only
    # one runs the operator; the other finds it no longer pending and stops.
    claimed = db.session.execute(db.update(ServiceCall).where(ServiceCall.id == call_id, ServiceCall.status == "pending")
                                 .values(status="running", attempts=ServiceCall.attempts + 1, updated_at=utcnow()))
    db.session.commit()
    if claimed.rowcount != 1:
        return  # settled, or running elsewhere
    call = db.session.get(ServiceCall, call_id)
    op = registry.get_operator(call.operator)
    instance = get_instance(call.instance_id)
    ctx = registry.OperatorContext(instance.id, instance.business_key, instance.subject_type, instance.subject_id,
                                   call_key=f"wuye-call-{call.id}")
    # Nothing written: this ends the read, so no transaction stays open while the outside world
    # answers, and the case is read afresh (and locked) for the result, not taken from memory.
    db.session.commit()
    try:
        if op is None:
            raise EngineError(_("未注册的服务操作：%(name)s", name=call.operator))
        result = op.func(ctx, **call.params) or {}
    except Exception as e:  # any failure outside counts; the operator is idempotent by call_key
        _service_call_failed(call_id, e)
        return
    _service_call_succeeded(call_id, result)


def _service_call_succeeded(call_id: int, result: dict) -> None:
    for _attempt in range(3):
        try:
            with _transaction():
                call = db.session.get(ServiceCall, call_id)
                instance, wf = _open_instance(call.instance_id)
                call.status = "succeeded"
                call.result = result
                task = wf.get_task_from_id(uuid.UUID(call.task_uuid))
                if task is not None and task.state == TaskState.STARTED:
                    external = task._get_internal_data(specs.EXTERNAL_CALL) or {}
                    task.data[external.get("result_variable") or "result"] = result
                    task.complete()
                    _event(instance, "service_call_done", task=task, data={"call_id": call.id, "result": result})
                    if instance.status == "error" and instance.incident_task == call.task_name:
                        instance.status, instance.incident, instance.incident_task = "running", None, None
                    _step(instance, wf)
                    _save(instance, wf)
            return
        except Conflict:
            db.session.rollback()
    raise Conflict(_("该案件已被他人更新，请刷新后重试。"))


def _service_call_failed(call_id: int, error: Exception) -> None:
    call = db.session.get(ServiceCall, call_id)
    call.last_error = f"{type(error).__name__}: {error}"
    instance = get_instance(call.instance_id, lock=True)  # an incident waits for a completion, never fails on it
    if call.attempts < call.max_attempts:
        call.status = "pending"
        _event(instance, "service_call_retry", task_name=call.task_name,
               data={"call_id": call.id, "attempt": call.attempts}, message=call.last_error)
        base = current_app.config.get("ENGINE_RETRY_BASE_SECONDS", 10)
        delay = base * 3 ** (call.attempts - 1)  # 10 s, 30 s, 90 s …
        jobs.enqueue("workers.engine.run_service_call", call.id, delay_seconds=delay)
    else:
        call.status = "failed"
        instance.status = "error"
        instance.incident = call.last_error
        instance.incident_task = call.task_name
        _event(instance, "incident", task_name=call.task_name, data={"call_id": call.id}, message=call.last_error)
    db.session.commit()


def retry_incident(instance_id: int, actor) -> None:
    """A supervisor retries an instance in error: failed external calls are queued again,
    a failed script task is run again."""
    with _transaction():
        instance, wf = _open_instance(instance_id)
        if instance.status != "error":
            raise Conflict(_("该案件没有待处理的故障。"))
        instance.status, instance.incident, instance.incident_task = "running", None, None
        _event(instance, "incident_retry", actor=actor)
        for call in db.session.scalars(db.select(ServiceCall).where(ServiceCall.instance_id == instance.id,
                                                                      ServiceCall.status == "failed")):
            call.status, call.attempts = "pending", 0
            jobs.enqueue("workers.engine.run_service_call", call.id)
        for task in wf.get_tasks(state=TaskState.ERROR):
            task._set_state(TaskState.READY)
        _step(instance, wf)
        _save(instance, wf)


def requeue_stuck_calls(older_than_seconds: int = 600) -> int:
    """Queue again the calls whose job was lost: 'running' ones whose worker was killed
    mid-job, and 'pending' ones whose job never ran (Redis restarted empty, or was down
    when the case committed). The cutoff is longer than the longest retry backoff; the
    operator's idempotency key makes a repeat safe and the atomic claim lets one job run."""
    from datetime import timedelta
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    stuck = db.session.scalars(db.select(ServiceCall).where(ServiceCall.status.in_(("running", "pending")),
                                                            ServiceCall.updated_at < cutoff)).all()
    for call in stuck:
        call.status = "pending"
        jobs.enqueue("workers.engine.run_service_call", call.id)
    db.session.commit()
    return len(stuck)


# ---------------------------------------------------------------- supervision

def suspend(instance_id: int, actor, reason: str = "") -> None:
    with _transaction():
        instance = get_instance(instance_id, lock=True)
        if instance.status not in ("running", "waiting", "error"):
            raise Conflict(_("只有进行中的案件可以暂停。"))
        instance.status = "suspended"
        _event(instance, "suspended", actor=actor, message=reason)


def resume(instance_id: int, actor) -> None:
    with _transaction():
        instance, wf = _open_instance(instance_id)
        if instance.status != "suspended":
            raise Conflict(_("该案件未暂停。"))
        instance.status = "running"
        _event(instance, "resumed", actor=actor)
        _step(instance, wf)
        _save(instance, wf)


def terminate(instance_id: int, actor, reason: str) -> None:
    if not (reason or "").strip():
        from app.services.errors import ValidationFailed
        raise ValidationFailed(_("请填写终止原因。"), {"reason": _("请填写终止原因。")})
    with _transaction():
        instance = get_instance(instance_id, lock=True)  # and so the open tasks read below are those of now
        if instance.status in ("completed", "terminated"):
            raise Conflict(_("该案件已结束。"))
        instance.status = "terminated"
        instance.ended_at = utcnow()
        instance.end_reason = reason.strip()
        instance.next_timer_at = None
        for row in db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                                 HumanTask.status == "open")):
            row.status, row.completed_at = "cancelled", utcnow()
        db.session.execute(db.delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
        _event(instance, "terminated", actor=actor, message=reason.strip())


# ---------------------------------------------------------------- inbox task operations

def claim(human_task_id: int, actor) -> HumanTask:
    with _transaction():
        row = _open_task(human_task_id)
        if row.claimed_by_id and row.claimed_by_id != actor.id:
            raise Conflict(_("该任务已由 %(name)s 签收。", name=row.claimed_by.display_name))
        row.claimed_by_id, row.claimed_at = actor.id, utcnow()
        _event(row.instance, "task_claimed", actor=actor, data={"task": row.name})
    return row


def unclaim(human_task_id: int, actor) -> HumanTask:
    with _transaction():
        row = _open_task(human_task_id)
        if row.claimed_by_id != actor.id:
            raise Conflict(_("只能退回自己签收的任务。"))
        row.claimed_by_id, row.claimed_at = None, None
        _event(row.instance, "task_unclaimed", actor=actor, data={"task": row.name})
    return row


def reassign(human_task_id: int, to_user, actor) -> HumanTask:
    with _transaction():
        row = _open_task(human_task_id)
        row.claimed_by_id, row.claimed_at = to_user.id, utcnow()
        _event(row.instance, "task_reassigned", actor=actor, data={"task": row.name, "to": to_user.username})
    return row


def save_draft(human_task_id: int, data: dict, actor) -> HumanTask:
    with _transaction():
        row = _open_task(human_task_id)
        row.draft = data
    return row


def _open_task(human_task_id: int) -> HumanTask:
    """The task's row, locked until the transaction ends (FOR NO KEY UPDATE on PostgreSQL) and
    read as committed once the lock is had: of two people claiming it at once, the second
    sees the first one's claim (on SQLite the database's write lock, taken before the read)."""
    lock_for_writing()
    row = db.session.get(HumanTask, human_task_id, with_for_update={"key_share": True}, populate_existing=True)
    if row is None:
        raise NotFound(_("任务不存在。"))
    if row.status != "open":
        raise Conflict(_("该任务已经办理完毕。"))
    return row


def element_states(instance: ProcessInstance) -> dict[str, list[str]]:
    """BPMN element ids by state, for highlighting the diagram of a case."""
    wf = _load(instance)
    states = {"completed": set(), "active": set(), "waiting": set(), "error": set()}
    for task in wf.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            states["completed"].add(bpmn_id)
        elif task.state in (TaskState.READY, TaskState.STARTED):
            states["active"].add(bpmn_id)
        elif task.state == TaskState.WAITING:
            states["waiting"].add(bpmn_id)
        elif task.state == TaskState.ERROR:
            states["error"].add(bpmn_id)
    states["completed"] -= states["active"] | states["waiting"] | states["error"]
    return {k: sorted(v) for k, v in states.items()}
