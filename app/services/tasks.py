"""Acting on cases and tasks on behalf of a user: permission checks, form validation,
then the engine. Pages and API both call these, so the rules are the same for both."""
import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import DateField, DateTimeField

from app.engine import registry, runtime
from app.engine.specs import safe_xml
from app.extensions import db
from app.models import HumanTask, ProcessInstance
from app.permissions import acting_for, may_act_on_task, may_supervise, visible_instances
from app.roles import role_for_lane, role_name
from app.services import attachments
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed

SKIP_FIELDS = {"csrf_token", "submit"}


def get_task_for(user, task_id: int) -> HumanTask:
    """The task if the user may see it (acting on it, or reading its case); else NotFound."""
    row = db.session.get(HumanTask, task_id)
    if row is None:
        raise NotFound(_("任务不存在。"))
    _require_visible(user, row)
    return row


def _require_visible(user, row: HumanTask) -> None:
    if may_act_on_task(user, row) or row.claimed_by_id == user.id or row.completed_by_id == user.id:
        return
    if db.session.scalar(visible_instances(user).where(ProcessInstance.id == row.instance_id)) is None:
        raise NotFound(_("任务不存在。"))


def get_instance_for(user, instance_id: int) -> ProcessInstance:
    instance = db.session.scalar(visible_instances(user).where(ProcessInstance.id == instance_id))
    if instance is None:
        raise NotFound(_("案件不存在。"))
    return instance


def may_act(user, row: HumanTask) -> bool:
    """May the user work on this task right now (role, organisation, claim, still open)?"""
    return (row.status == "open" and may_act_on_task(user, row)
            and (row.claimed_by_id is None or row.claimed_by_id == user.id))


def _require_actor(user, row: HumanTask) -> None:
    if not may_act_on_task(user, row):
        raise Forbidden(_("该任务属于“%(role)s”，您无权办理。", role=role_name(row.role)))
    if row.status == "completed":
        raise Conflict(_("该任务已经办理完毕，无需重复提交。"))
    if row.status != "open":
        raise Conflict(_("该任务已因期限届满或流程变化而关闭。"))
    if row.claimed_by_id and row.claimed_by_id != user.id:
        raise Conflict(_("该任务已由 %(name)s 签收，您不能办理。", name=row.claimed_by.display_name))


def form_class(row: HumanTask):
    form = registry.resolve_form(row.form_key)
    if form is None:
        raise NotFound(_("任务表单“%(key)s”不存在。", key=row.form_key))
    return form


def json_safe(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "filename"):  # uploaded files are stored by the attachments service
        return None
    return value


def form_data(form) -> dict:
    return {name: json_safe(field.data) for name, field in form._fields.items() if name not in SKIP_FIELDS}


def build_form(row: HumanTask, formdata=None, *, csrf=True):
    """The task's WTForms form; JSON bodies (API) arrive as dicts."""
    cls = form_class(row)
    if isinstance(formdata, dict) and not isinstance(formdata, MultiDict):  # a JSON body
        formdata = as_formdata(formdata)
    meta = {} if csrf else {"csrf": False}
    data = None
    if formdata is None:  # shown, not submitted: the saved draft, else what the form prefills
        data = row.draft or (cls.prefill(row) if hasattr(cls, "prefill") else None)
    form = cls(formdata=formdata, data=data, meta=meta)
    if hasattr(form, "bind_task"):  # choices that depend on the case, e.g. its candidates
        form.bind_task(row)
    if data:
        _restore_dates(form)
    return form


def _restore_dates(form) -> None:
    """Saved data keeps dates as ISO text (JSON); date fields need them back as dates."""
    for field in form:
        for entry in getattr(field, "entries", ()):  # rows of a FieldList
            if hasattr(entry, "form"):
                _restore_dates(entry.form)
        if isinstance(field, (DateField, DateTimeField)) and isinstance(field.data, str):
            try:
                parse = dt.date.fromisoformat if isinstance(field, DateField) else dt.datetime.fromisoformat
                field.data = parse(field.data)
            except ValueError:
                field.data = None


def as_formdata(body: dict) -> MultiDict:
    """A JSON body as form data: lists repeat the key, booleans become checked/absent."""
    pairs = []
    for key, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None or item is False:
                continue
            pairs.append((key, "y" if item is True else str(item)))
    return MultiDict(pairs)


def complete(user, task_id: int, formdata, *, csrf=True) -> ProcessInstance:
    """Check who may act and validate the form, then complete the task; bad input changes
    nothing. The checks run on the task as it is under its case's lock (`prepare`): a claim
    by someone else committed a moment ago refuses this completion, as it should."""
    stored = []

    def prepare(row: HumanTask):
        _require_visible(user, row)
        _require_actor(user, row)
        form = build_form(row, formdata, csrf=csrf)
        if not form.validate():
            raise ValidationFailed(_("表单填写有误，请按提示修改。"), field_errors(form))
        if hasattr(form, "check_task"):  # rules that need the case or the user, e.g. four eyes
            if problems := form.check_task(user, row):
                raise ValidationFailed(_("表单填写有误，请按提示修改。"), problems)
        data = form_data(form)
        stored.extend(_store_uploads(form, data, user, row))
        return data, acting_for(user, row)

    try:
        return runtime.complete_task(task_id, None, user, prepare=prepare)
    except Exception:
        attachments.discard(stored)
        raise


def field_errors(form) -> dict:
    """{field name as in the page: message}, the rows of a FieldList included
    ("communities-0-name"), so each error can be shown at its field."""
    errors = {}
    for field in form:
        entries = getattr(field, "entries", None)
        if entries is None:
            if field.errors:
                errors[field.name] = "；".join(str(e) for e in field.errors)
            continue
        for entry in entries:
            if hasattr(entry, "form"):
                errors.update(field_errors(entry.form))
            elif entry.errors:
                errors[entry.name] = "；".join(str(e) for e in entry.errors)
        if own := [str(e) for e in field.errors if not isinstance(e, (dict, list))]:
            errors[field.name] = "；".join(own)
    return errors


def _uploads(form, data: dict):
    """(where the attachment id goes, key, field) of every file uploaded with the form,
    in rows of a FieldList too."""
    for name, field in form._fields.items():
        if isinstance(field.data, FileStorage) and field.data.filename:
            yield data, name, field
        for i, entry in enumerate(getattr(field, "entries", ())):
            for sub_name, sub in getattr(getattr(entry, "form", None), "_fields", {}).items():
                if isinstance(sub.data, FileStorage) and sub.data.filename:
                    yield data[name][i], sub_name, sub


def _store_uploads(form, data: dict, user, row: HumanTask) -> list[tuple[int, str]]:
    """Uploaded documents become attachments of the case: every one is checked before any
    is stored, and what was stored goes again if a later one fails."""
    found = list(_uploads(form, data))
    if problems := {f.name: p for _c, _k, f in found if (p := attachments.problem(f.data))}:
        raise ValidationFailed(_("表单填写有误，请按提示修改。"), problems)
    stored = []
    try:
        for container, key, field in found:
            attachment = attachments.store(field.data, field=field.name, user=user, instance_id=row.instance_id,
                                           task_id=row.id)
            stored.append((attachment.id, attachment.stored_name))
            container[key] = attachment.id
    except Exception:
        attachments.discard(stored)
        raise
    return stored


def save_draft(user, task_id: int, formdata) -> HumanTask:
    row = get_task_for(user, task_id)
    _require_actor(user, row)
    form = build_form(row, formdata)
    return runtime.save_draft(row.id, form_data(form), user)


def claim(user, task_id: int) -> HumanTask:
    row = get_task_for(user, task_id)
    if not may_act_on_task(user, row):
        raise Forbidden(_("该任务属于“%(role)s”，您无权签收。", role=role_name(row.role)))
    return runtime.claim(row.id, user)


def unclaim(user, task_id: int) -> HumanTask:
    row = get_task_for(user, task_id)
    return runtime.unclaim(row.id, user)


def reassign(user, task_id: int, to_user) -> HumanTask:
    row = get_task_for(user, task_id)
    if not may_supervise(user):
        raise Forbidden(_("只有主管可以改派任务。"))
    if to_user is None or not may_act_on_task(to_user, row):
        raise ValidationFailed(_("改派对象无权办理该任务。"), {"user": _("改派对象无权办理该任务。")})
    return runtime.reassign(row.id, to_user, user)


def start_roles(model_key: str) -> set[str]:
    """Who may start a process: the role of the lane holding its start event."""
    version = runtime.latest_version(model_key)
    root = safe_xml(version.bpmn_xml)
    ns = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
    start_ids = {e.get("id") for e in root.iter(f"{ns}startEvent")}
    roles = set()
    for lane in root.iter(f"{ns}lane"):
        if start_ids & {(r.text or "").strip() for r in lane.findall(f"{ns}flowNodeRef")}:
            role = role_for_lane(lane.get("name"))
            if role:
                roles.add(role)
    return roles or {"housing_center"}


def start_case(user, model_key: str, *, business_key: str = "", title: str = "", data: dict | None = None,
               orgs: dict | None = None) -> ProcessInstance:
    if not user.has_role(*start_roles(model_key), "admin"):
        raise Forbidden(_("您无权发起该流程。"))
    if orgs is None:  # a case an organisation starts belongs to that organisation
        orgs = {c: getattr(user, c) for c in ("enterprise_id", "bank_id", "device_supplier_id", "street_office_id")
                if getattr(user, c)}
    return runtime.start(model_key, business_key=business_key, title=title, data=data or {}, actor=user, orgs=orgs)


def supervise(user, instance_id: int, action: str, reason: str = "") -> None:
    if not may_supervise(user):
        raise Forbidden(_("只有主管可以执行该操作。"))
    get_instance_for(user, instance_id)
    actions = {"suspend": lambda: runtime.suspend(instance_id, user, reason),
               "resume": lambda: runtime.resume(instance_id, user),
               "terminate": lambda: runtime.terminate(instance_id, user, reason),
               "retry": lambda: runtime.retry_incident(instance_id, user)}
    if action not in actions:
        raise NotFound(_("未知操作。"))
    actions[action]()


def last_completion(instance_id: int, *spec_ids: str) -> HumanTask | None:
    """The user task of a case completed last among spec_ids: what was entered and by whom
    (operators read a form's data and its author from here)."""
    return db.session.scalar(db.select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.spec_id.in_(spec_ids), HumanTask.status == "completed")
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(1))
