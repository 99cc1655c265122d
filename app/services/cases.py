"""A case as people see it: summary of its domain object, open tasks, timeline,
comments, documents and the diagram with its progress."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app.engine import runtime
from app.extensions import db
from app.models import Attachment, CaseComment, HumanTask, InstanceEvent
from app.roles import DEPARTMENT_ROLES
from app.services import audit
from app.services.errors import ValidationFailed
from app.services.tasks import get_instance_for

# subject_type -> function(subject_id) -> list of (label, value): domain modules register theirs.
SUMMARIES = {}


def summary(subject_type: str):
    def decorator(fn):
        SUMMARIES[subject_type] = fn
        return fn
    return decorator


@summary("Enterprise")
def _enterprise_summary(subject_id):
    from app.models import Enterprise
    e = db.session.get(Enterprise, subject_id)
    return [(_("企业"), e.name), (_("统一社会信用代码"), e.uscc), (_("备案状态"), e.filing_status)] if e else []


@summary("Community")
def _community_summary(subject_id):
    from app.models import Community
    c = db.session.get(Community, subject_id)
    return [(_("小区"), c.name), (_("街道办事处"), c.street_office.name),
            (_("物业企业"), c.enterprise.name if c.enterprise else "—")] if c else []


# An error's text names gateways, hosts and exception types. The government side sees it to act
# on it; an enterprise, bank, supplier, mediator or resident sees that the case has stopped.
SEES_ERRORS = (*DEPARTMENT_ROLES, "street_office", "admin", "process_manager")
ERROR_EVENTS = ("incident", "service_call_retry")
PLAIN_INCIDENT = _l("系统处理出错，住保中心已收到提示，正在处理。")


def sees_errors(user) -> bool:
    return user.has_role(*SEES_ERRORS)


def incident_for(user, instance) -> str | None:
    """The case's incident as this user may see it."""
    if not instance.incident:
        return None
    return instance.incident if sees_errors(user) else str(PLAIN_INCIDENT)


def event_message(user, event) -> str:
    """A timeline entry's message as this user may see it (a retry's error: nothing)."""
    if event.kind not in ERROR_EVENTS or not event.message or sees_errors(user):
        return event.message or ""
    return str(PLAIN_INCIDENT) if event.kind == "incident" else ""


def case_view(user, instance_id: int) -> dict:
    instance = get_instance_for(user, instance_id)
    events = db.session.scalars(db.select(InstanceEvent).where(InstanceEvent.instance_id == instance.id)
                                .order_by(InstanceEvent.id)  # everyone named in the timeline, in one statement
                                .options(selectinload(InstanceEvent.actor), selectinload(InstanceEvent.on_behalf_of))
                                ).all()
    facts = SUMMARIES.get(instance.subject_type, lambda _id: [])(instance.subject_id) if instance.subject_id else []
    return {
        "instance": instance,
        "incident": incident_for(user, instance),
        "events": events,
        "messages": {e.id: event_message(user, e) for e in events},
        "facts": facts,
        "open_tasks": db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                                    HumanTask.status == "open")).all(),
        "comments": db.session.scalars(db.select(CaseComment).where(CaseComment.instance_id == instance.id)
                                       .order_by(CaseComment.id)).all(),
        "attachments": db.session.scalars(db.select(Attachment).where(Attachment.instance_id == instance.id)
                                          .order_by(Attachment.id)).all(),
    }


def diagram(user, instance_id: int) -> dict:
    instance = get_instance_for(user, instance_id)
    return {"xml": instance.version.bpmn_xml, "states": runtime.element_states(instance)}


def add_comment(user, instance_id: int, body: str) -> CaseComment:
    instance = get_instance_for(user, instance_id)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(_("请填写意见内容。"), {"body": _("请填写意见内容。")})
    if len(body) > 4000:
        raise ValidationFailed(_("意见不能超过 4000 字。"), {"body": _("意见不能超过 4000 字。")})
    comment = CaseComment(instance_id=instance.id, author_id=user.id, body=body)
    db.session.add(comment)
    db.session.flush()
    audit.record("case.comment", comment, after={"instance_id": instance.id}, actor=user)
    db.session.commit()
    return comment


STATUSES = ("running", "waiting", "error", "suspended", "completed", "terminated")


def search(user, *, process: str = "", status: str = "", incident: bool = False, overdue: bool = False,
           q: str = ""):
    """Cases the user may read, newest first: the case list and the API filter alike.
    incident = stopped on an error; overdue = has an open task past its due time."""
    from app.engine.calendar import now
    from app.models import ProcessInstance
    from app.permissions import visible_instances
    query = visible_instances(user).order_by(ProcessInstance.id.desc())
    if process:
        query = query.where(ProcessInstance.model_key == process)
    if status in STATUSES:
        query = query.where(ProcessInstance.status == status)
    if incident:
        query = query.where(ProcessInstance.status == "error")
    if overdue:
        late = db.select(HumanTask.instance_id).where(HumanTask.status == "open", HumanTask.due_at < now())
        query = query.where(ProcessInstance.id.in_(late))
    if q:
        query = query.where(ProcessInstance.title.like(f"%{q.strip()}%"))
    return query


def attachment_for(user, attachment_id: int) -> Attachment:
    """A case document, if the user may read its case (else NotFound, as for the case)."""
    from app.services.errors import NotFound
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.instance_id is None:
        raise NotFound(_("附件不存在。"))
    get_instance_for(user, row.instance_id)
    return row
