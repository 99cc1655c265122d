"""Moving running instances to a newer version of their model, where the engine allows it.

SpiffWorkflow aligns the old spec's tasks with the new spec's by BPMN id (`diff_workflow`)
and re-points the workflow at the new spec (`migrate_workflow`), resetting ready and
waiting tasks so they take the new definition. An instance can move when:

- it is running or waiting (not in error, suspended or ended);
- no external service call of it is in flight (the worker would resume a task that moved);
- every task it has reached or completed still exists in the new version, and so do its
  sub-processes;
- the migrated state loads again against the new version (a dry run proves it).

Anything else stays on its version, with the reason. The default is to stay: nothing
moves unless a process manager picks the instances.
"""
from flask_babel import gettext as _
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from app.engine import runtime, specs
from app.extensions import db
from app.models import HumanTask, ProcessInstance, ProcessModelVersion, ServiceCall
from app.roles import role_for_lane
from app.services.errors import Conflict

REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def _name(task) -> str:
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name


def _check(instance: ProcessInstance, target: ProcessModelVersion):
    """(workflow migrated in memory, None) or (None, reason)."""
    if instance.status not in ("running", "waiting"):
        return None, _("案件状态为“%(status)s”，只有进行中的案件可以迁移。", status=instance.status)
    in_flight = db.session.scalar(db.select(db.func.count(ServiceCall.id)).where(
        ServiceCall.instance_id == instance.id, ServiceCall.status.in_(("pending", "running"))))
    if in_flight:
        return None, _("有进行中的外部服务调用，完成后才能迁移。")
    wf = runtime._load(instance)
    new_spec, new_subs = specs.cached_parsed(target.id, target.checksum)
    top, sub_diffs = diff_workflow(specs.serializer.registry, wf, new_spec, new_subs)
    lost = sorted({_name(t) for t in top.removed if t.state & REACHED})
    if lost:
        return None, _("已办理或正在办理的环节在新版本中不存在：%(tasks)s。", tasks="、".join(lost))
    for sp_id, sp_diff in sub_diffs.items():
        if sp_diff is None:
            return None, _("子流程在新版本中不存在。")
        lost = sorted({_name(t) for t in sp_diff.removed if t.state & REACHED})
        if lost:
            return None, _("已办理或正在办理的环节在新版本中不存在：%(tasks)s。", tasks="、".join(lost))
    try:
        migrate_workflow(top, wf, new_spec)
        for sp_id, sp_diff in sub_diffs.items():
            sp = wf.subprocesses[sp_id]
            migrate_workflow(sp_diff, sp, new_subs.get(sp.spec.name))
        wf.subprocess_specs = new_subs
        # Dry run: the migrated state must load against the new version's spec.
        state = runtime._dump(wf)
        probe = dict(state)
        probe.update(specs.cached_spec_json(target.id, target.checksum))
        probe.setdefault("serializer_version", specs.SERIALIZER_VERSION)
        specs.serializer.from_dict(probe)
    except Exception as e:  # anything the engine cannot carry over keeps the instance where it is
        return None, _("引擎无法迁移该案件：%(error)s", error=str(e)[:200])
    return wf, None


def preview(source: ProcessModelVersion, target: ProcessModelVersion) -> list[dict]:
    """Each open instance of `source`: may it move to `target`, and if not, why."""
    rows = []
    instances = db.session.scalars(db.select(ProcessInstance).where(
        ProcessInstance.version_id == source.id, ProcessInstance.status.in_(runtime.OPEN_STATUSES))
        .order_by(ProcessInstance.id)).all()
    for instance in instances:
        _wf, reason = _check(instance, target)
        rows.append({"instance": instance, "movable": reason is None, "reason": reason or ""})
    db.session.rollback()  # loading touched nothing, but leave the session clean
    return rows


def migrate(instance_id: int, target: ProcessModelVersion, actor) -> ProcessInstance:
    """Move one instance to `target` (Conflict with the reason when it cannot move)."""
    with runtime._transaction():
        instance = runtime.get_instance(instance_id, lock=True)
        if instance.version.model_id != target.model_id or instance.version.number >= target.number:
            raise Conflict(_("只能迁移到同一流程的更新版本。"))
        wf, reason = _check(instance, target)
        if wf is None:
            raise Conflict(reason)
        source_number = instance.version.number
        instance.version_id = target.id
        runtime._event(instance, "migrated", actor=actor, data={"from": source_number, "to": target.number},
                       message=_("由第 %(a)d 版迁移到第 %(b)d 版", a=source_number, b=target.number))
        runtime._step(instance, wf)
        runtime._save(instance, wf)
        _refresh_inbox(instance, wf)
    return instance


def _refresh_inbox(instance: ProcessInstance, wf) -> None:
    """Open inbox rows of tasks still ready take the new version's name, lane and form."""
    ready = {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)}
    for row in db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                             HumanTask.status == "open")):
        task = ready.get(row.task_uuid)
        if task is None:
            continue
        lane = task.task_spec.lane or ""
        row.name = _name(task)
        row.lane = lane
        row.role = role_for_lane(lane) or lane
        row.form_key = runtime._task_properties(task).get("formKey", "")
