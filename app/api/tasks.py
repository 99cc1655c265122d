"""Tasks, process instances and messages: the engine through the same services as the pages."""
from functools import cache

from flask import jsonify, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict

from app.api import bp
from app.api.openapi import (BOOLEAN, DATE, DATETIME, INTEGER, PATHS, STRING, array, document_responses, list_of,
                             nullable, op, query_param, record)
from app.api.paging import PAGING, paged
from app.engine import runtime
from app.extensions import db
from app.models import Attachment, HumanTask, InstanceEvent, User
from app.services import attachments, cases, inbox
from app.services import tasks as task_service
from app.services import users as user_service
from app.services.errors import Forbidden, ValidationFailed


def _flag(args, name: str) -> bool:
    value = args.get(name, "")
    if value not in ("", "0", "1", "true", "false"):
        raise ValidationFailed(_("查询条件有误。"), {name: _("可选值：%(values)s。", values="1、0")})
    return value in ("1", "true")


def task_json(row: HumanTask, with_form=False) -> dict:
    data = {"id": row.id, "name": row.name, "process": row.model_key, "title": row.title, "role": row.role,
            "instance_id": row.instance_id, "status": row.status, "form_key": row.form_key,
            "claimed_by": row.claimed_by.username if row.claimed_by else None,
            "completed_by": row.completed_by.username if row.completed_by else None,
            "started_at": row.instance.started_at.isoformat(), "created_at": row.created_at.isoformat(),
            "due_at": row.due_at.isoformat() if row.due_at else None,
            "completed_at": row.completed_at.isoformat() if row.completed_at else None}
    if with_form:
        form = task_service.build_form(row, None, csrf=False)
        data["form"] = [{"name": f.name, "label": str(f.label.text), "type": f.type, "required": bool(f.flags.required),
                         "choices": [[str(v), str(lbl)] for v, lbl in getattr(f, "choices", None) or []] or None,
                         "description": str(f.description or "")}
                        for f in form if f.name not in task_service.SKIP_FIELDS]
    return data


@cache
def _instance_queries() -> tuple:
    """Built once, run with the instance id: every completion through the API answers with
    the case, and building these statements costs SQLAlchemy more than running them."""
    instance_id = db.bindparam("instance_id")
    return (db.select(InstanceEvent.at, InstanceEvent.kind, InstanceEvent.task_name, InstanceEvent.data,
                      InstanceEvent.message, User.username.label("actor"))  # rows, not objects: only what is shown
            .outerjoin(User, User.id == InstanceEvent.actor_id)
            .where(InstanceEvent.instance_id == instance_id).order_by(InstanceEvent.id),
            db.select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open"),
            db.select(Attachment).where(Attachment.instance_id == instance_id).order_by(Attachment.id))


def instance_json(instance) -> dict:
    events_query, open_tasks_query, attachments_query = _instance_queries()
    params = {"instance_id": instance.id}
    events = db.session.execute(events_query, params).all()
    open_tasks = db.session.scalars(open_tasks_query, params).all()
    return {"id": instance.id, "process": instance.model_key, "version": instance.version.number,
            "business_key": instance.business_key, "title": instance.title, "status": instance.status,
            "incident": cases.incident_for(current_user, instance), "next_timer_at": instance.next_timer_at.isoformat()
            if instance.next_timer_at else None,
            "open_tasks": [task_json(t) for t in open_tasks],
            "attachments": [attachment_json(a) for a in db.session.scalars(attachments_query, params)],
            "timeline": [{"at": e.at.isoformat(), "kind": e.kind, "task": e.task_name,
                          "actor": e.actor, "data": e.data,
                          "message": cases.event_message(current_user, e)}
                         for e in events]}


def attachment_json(row: Attachment) -> dict:
    return {"id": row.id, "filename": row.filename, "field": row.field, "content_type": row.content_type,
            "size": row.size, "sha256": row.sha256, "task_id": row.task_id,
            "uploaded_by": row.uploaded_by.username if row.uploaded_by else None,
            "uploaded_at": row.uploaded_at.isoformat(), "url": url_for("api.download_attachment", attachment_id=row.id)}


@bp.get("/tasks")
def list_tasks():
    """The inbox's tabs, filters, sort and pages; garbage in a filter is a 422, not ignored."""
    filters = inbox.Filters.from_args(request.args, strict=True, tabs=inbox.API_TABS)
    inbox.require_tab(current_user, filters.tab)
    return jsonify(paged(inbox.search(current_user, filters), task_json))


@bp.get("/tasks/<int:task_id>")
def show_task(task_id):
    return jsonify(task_json(task_service.get_task_for(current_user, task_id), with_form=True))


@bp.post("/tasks/<int:task_id>/claim")
def claim_task(task_id):
    return jsonify(task_json(task_service.claim(current_user, task_id)))


@bp.post("/tasks/<int:task_id>/unclaim")
def unclaim_task(task_id):
    return jsonify(task_json(task_service.unclaim(current_user, task_id)))


@bp.post("/tasks/<int:task_id>/complete")
def complete_task(task_id):
    """JSON, or multipart/form-data when the form asks for documents (the page's checks apply)."""
    if request.mimetype == "multipart/form-data":
        formdata = CombinedMultiDict([request.files, request.form])
    else:
        formdata = request.get_json(silent=True)
        if not isinstance(formdata, dict):
            raise ValidationFailed(_("请求体须为 JSON 对象。"))
    instance = task_service.complete(current_user, task_id, formdata, csrf=False)
    return case_answer(instance)


@bp.post("/processes/<key>/instances")
def start_instance(key):
    body = request.get_json(silent=True) or {}
    data = body.get("data") or {}
    if not isinstance(data, dict):
        raise ValidationFailed(_("data 须为 JSON 对象。"), {"data": _("须为 JSON 对象。")})
    instance = task_service.start_case(current_user, key, business_key=str(body.get("business_key") or ""),
                                       title=str(body.get("title") or ""), data=data)
    return case_answer(instance, 201)


def prefers_minimal() -> bool:
    """`Prefer: return=minimal` (RFC 7240): the caller wants no more than the outcome."""
    return any(part.split(";", 1)[0].strip().lower() == "return=minimal"
               for part in request.headers.get("Prefer", "").split(","))


def case_answer(instance, status: int = 200):
    """The case as it is now, or with `Prefer: return=minimal` only its id and status: a system
    that completes tasks in bulk need not have each case's timeline read and sent back."""
    if not prefers_minimal():
        response = jsonify(instance_json(instance))
    else:
        response = jsonify({"id": instance.id, "status": instance.status})
        response.headers["Preference-Applied"] = "return=minimal"
    response.status_code = status
    response.vary.add("Prefer")
    return response


@bp.get("/instances/<int:instance_id>")
def show_instance(instance_id):
    return jsonify(instance_json(task_service.get_instance_for(current_user, instance_id)))


@bp.post("/messages")
def post_message():
    if not current_user.has_role("housing_center", "admin"):
        raise Forbidden(_("您无权投递消息。"))
    body = request.get_json(silent=True) or {}
    errors = {k: _("必填。") for k in ("name", "correlation_key") if not body.get(k)}
    if errors:
        raise ValidationFailed(_("消息缺少必填项。"), errors)
    result = runtime.deliver_message(str(body["name"]), str(body["correlation_key"]), body.get("payload") or {},
                                     message_id=str(body.get("message_id") or ""))
    return jsonify(result)


TASK_FILTERS = [
    query_param("tab", "open: open tasks of my roles (claimed or not; with claimed=none the inbox's 待办); "
                "mine: claimed by me; done: completed by me or for me; all: every open task (supervisors only, "
                "else 403)", {"type": "string", "enum": list(inbox.API_TABS)}),
    query_param("process", "process key"), query_param("task", "task name"), query_param("role", "role code"),
    query_param("claimed", "me | none", {"type": "string", "enum": list(inbox.CLAIMED)}),
    query_param("community_id", "community", {"type": "integer", "minimum": 1}),
    query_param("enterprise_id", "enterprise", {"type": "integer", "minimum": 1}),
    query_param("street_office_id", "street office", {"type": "integer", "minimum": 1}),
    query_param("due", "overdue | today (due within one working day) | week",
                {"type": "string", "enum": list(inbox.DUES)}),
    query_param("due_before", "due at or before: an ISO datetime, or a date (its whole day); without an offset "
                "Asia/Shanghai time"),
    query_param("text", "words in the case title or task name"),
    query_param("sort", "created (task arrival) | started (case start) | due | title | name",
                {"type": "string", "enum": list(inbox.SORTS)}),
    query_param("desc", "1: descending", {"type": "string", "enum": ["0", "1"]}),
]

PREFER = {"name": "Prefer", "in": "header", "required": False,
          "description": "return=minimal: answer with only the case's id and status (RFC 7240; the answer then "
                         "carries Preference-Applied: return=minimal)",
          "schema": {"type": "string", "enum": ["return=minimal", "return=representation"]}}

PATHS.update({
    "/tasks": {"get": op("My tasks by tab, filtered, sorted and paged; the answer has items and the total",
                         query=TASK_FILTERS + PAGING)},
    "/tasks/{task_id}": {"get": op("A task with its form fields", {"404": {"description": "not visible"}},
                                   params=["task_id"])},
    "/tasks/{task_id}/claim": {"post": op("Claim a task", {"403": {"description": "not your role"},
                                                          "409": {"description": "claimed by another"}},
                                          params=["task_id"])},
    "/tasks/{task_id}/unclaim": {"post": op("Give a claimed task back", params=["task_id"])},
    "/tasks/{task_id}/complete": {"post": op(
        "Complete a task with its form data: JSON, or multipart/form-data with the documents the form asks for "
        "as files under the field's name (at most 10 MB; PDF, JPG, PNG, DOCX, XLSX)", {
            "403": {"description": "not your role"}, "409": {"description": "already completed or claimed"},
            "422": {"description": "field errors"}}, body={"type": "object"},
        form={"type": "object", "additionalProperties": {"type": "string"}}, params=["task_id"], query=[PREFER])},
    "/processes/{key}/instances": {"post": op("Start a case", {"201": {"description": "started"},
                                                              "403": {"description": "may not start"}},
                                              body={"type": "object", "properties": {
                                                  "business_key": {"type": "string"}, "title": {"type": "string"},
                                                  "data": {"type": "object"}}}, params=["key"], query=[PREFER])},
    "/instances/{instance_id}": {"get": op("A case: status, open tasks, timeline", params=["instance_id"])},
    "/messages": {"post": op("Deliver a message to the waiting case", {"404": {"description": "nobody waits"}},
                             body={"type": "object", "required": ["name", "correlation_key"], "properties": {
                                 "name": {"type": "string"}, "correlation_key": {"type": "string"},
                                 "message_id": {"type": "string"}, "payload": {"type": "object"}}})},
})


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ValidationFailed(_("请求体须为 JSON 对象。"))
    return body


@bp.post("/tasks/<int:task_id>/draft")
def save_draft(task_id):
    return jsonify(task_json(task_service.save_draft(current_user, task_id, _body())))


@bp.post("/tasks/<int:task_id>/reassign")
def reassign_task(task_id):
    from app.models import User
    to_user = db.session.scalar(db.select(User).where(User.username == str(_body().get("username") or "")))
    return jsonify(task_json(task_service.reassign(current_user, task_id, to_user)))


def instance_row_json(i) -> dict:
    return {"id": i.id, "process": i.model_key, "title": i.title, "status": i.status,
            "incident": cases.incident_for(current_user, i), "business_key": i.business_key,
            "started_at": i.started_at.isoformat()}


@bp.get("/instances")
def list_instances():
    args = request.args
    status = args.get("status", "")
    if status and status not in cases.STATUSES:
        raise ValidationFailed(_("查询条件有误。"), {"status": _("可选值：%(values)s。", values="、".join(cases.STATUSES))})
    query = cases.search(current_user, process=args.get("process", ""), status=status,
                         incident=_flag(args, "incident"), overdue=_flag(args, "overdue"), q=args.get("text", ""))
    return jsonify(paged(query, instance_row_json))


@bp.get("/instances/<int:instance_id>/diagram")
def instance_diagram(instance_id):
    return jsonify(cases.diagram(current_user, instance_id))


@bp.get("/attachments/<int:attachment_id>")
def download_attachment(attachment_id):
    row = cases.attachment_for(current_user, attachment_id)
    return send_file(attachments.path_of(row), mimetype=row.content_type, as_attachment=True,
                     download_name=row.filename)


def substitute_json(row) -> dict:
    return {"id": row.id, "substitute": row.substitute.username, "substitute_name": row.substitute.display_name,
            "starts_on": row.starts_on.isoformat(), "ends_on": row.ends_on.isoformat()}


@bp.get("/substitutes")
def list_substitutes():
    return jsonify(items=[substitute_json(r) for r in user_service.substitutes_of(current_user)])


@bp.post("/substitutes")
def add_substitute():
    """Through the page's form, so the same fields are required and checked."""
    from forms.orgs import SubstituteForm
    form = SubstituteForm(formdata=task_service.as_formdata(_body()), meta={"csrf": False})
    if not form.validate():
        raise ValidationFailed(_("表单填写有误，请按提示修改。"), task_service.field_errors(form))
    row = user_service.add_substitute(current_user, form.username.data, form.starts_on.data, form.ends_on.data)
    return jsonify(substitute_json(row)), 201


@bp.delete("/substitutes/<int:substitute_id>")
def remove_substitute(substitute_id):
    user_service.remove_substitute(current_user, substitute_id)
    return jsonify(deleted=substitute_id)


@bp.post("/instances/<int:instance_id>/comments")
def comment_instance(instance_id):
    from app.services import cases
    comment = cases.add_comment(current_user, instance_id, str(_body().get("body") or ""))
    return jsonify(id=comment.id, body=comment.body, at=comment.at.isoformat()), 201


@bp.post("/instances/<int:instance_id>/<any(suspend, resume, terminate, retry):action>")
def supervise_instance(instance_id, action):
    task_service.supervise(current_user, instance_id, action, str(_body().get("reason") or ""))
    return jsonify(instance_json(task_service.get_instance_for(current_user, instance_id)))


PATHS.update({
    "/tasks/{task_id}/draft": {"post": op("Save a draft of the task's form", params=["task_id"], body={"type": "object"})},
    "/tasks/{task_id}/reassign": {"post": op("Reassign a task (supervisors)", {"403": {"description": "not a supervisor"}},
                                             params=["task_id"], body={"type": "object", "properties": {
                                                 "username": {"type": "string"}}})},
    "/instances": {"get": op("Cases I may read, newest first, paged; the answer has items and the total", query=[
        query_param("process", "process key"),
        query_param("status", "case status", {"type": "string", "enum": list(cases.STATUSES)}),
        query_param("incident", "1: stopped on an error", {"type": "string", "enum": ["0", "1"]}),
        query_param("overdue", "1: with an open task past its due time", {"type": "string", "enum": ["0", "1"]}),
        query_param("text", "words in the case title")] + PAGING)},
    "/instances/{instance_id}/diagram": {"get": op(
        "The case's BPMN diagram and its element states (completed, active, waiting)", params=["instance_id"])},
    "/attachments/{attachment_id}": {"get": op("Download a case document", {"200": {
        "description": "the file", "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                               for t in sorted({t for t, _m in attachments.ALLOWED.values()})}}},
        params=["attachment_id"])},
    "/substitutes": {
        "get": op("My substitutes (who may act on my tasks, and when)"),
        "post": op("Name a substitute for a period", {"201": {"description": "created"}}, body={
            "type": "object", "required": ["username", "starts_on", "ends_on"], "properties": {
                "username": {"type": "string"}, "starts_on": {"type": "string", "format": "date"},
                "ends_on": {"type": "string", "format": "date"}}})},
    "/substitutes/{substitute_id}": {"delete": op("Remove one of my substitutes", params=["substitute_id"])},
    "/instances/{instance_id}/comments": {"post": op("Comment on a case", {"201": {"description": "created"}},
                                                     params=["instance_id"], body={"type": "object", "properties": {
                                                         "body": {"type": "string"}}})},
    "/instances/{instance_id}/{action}": {"post": op("Suspend, resume, terminate (with reason) or retry a case",
                                                     {"403": {"description": "not a supervisor"}},
                                                     params=["instance_id", "action"], body={"type": "object"})},
})


# Success answers.

_TASK_FIELDS = {"id": INTEGER, "name": STRING, "process": STRING, "title": STRING, "role": STRING,
                "instance_id": INTEGER, "status": STRING, "form_key": STRING, "claimed_by": nullable(STRING),
                "created_at": DATETIME, "due_at": nullable(DATETIME)}
TASK = record(_TASK_FIELDS)
TASK_WITH_FORM = record({**_TASK_FIELDS, "form": array(record({
    "name": STRING, "label": STRING, "type": STRING, "required": BOOLEAN,
    "choices": nullable(array(array(STRING))), "description": STRING}))})
INSTANCE = record({"id": INTEGER, "process": STRING, "version": INTEGER, "business_key": STRING, "title": STRING,
                   "status": STRING, "incident": nullable(STRING), "next_timer_at": nullable(DATETIME),
                   "open_tasks": array(TASK), "timeline": array(record({
                       "at": DATETIME, "kind": STRING, "task": STRING, "actor": nullable(STRING),
                       "data": {"type": ["object", "array", "string", "number", "boolean", "null"]},
                       "message": STRING}))})
# The case, or with `Prefer: return=minimal` only its id and status.
INSTANCE_OR_MINIMAL = {"type": "object", "required": ["id", "status"],
                       "anyOf": [INSTANCE, record({"id": INTEGER, "status": STRING})]}
SUBSTITUTE = record({"id": INTEGER, "substitute": STRING, "substitute_name": STRING, "starts_on": DATE,
                     "ends_on": DATE})
document_responses({
    ("/tasks", "get"): list_of(TASK),
    ("/tasks/{task_id}", "get"): TASK_WITH_FORM,
    ("/tasks/{task_id}/claim", "post"): TASK, ("/tasks/{task_id}/unclaim", "post"): TASK,
    ("/tasks/{task_id}/draft", "post"): TASK, ("/tasks/{task_id}/reassign", "post"): TASK,
    ("/tasks/{task_id}/complete", "post"): INSTANCE_OR_MINIMAL,
    ("/processes/{key}/instances", "post"): INSTANCE_OR_MINIMAL,
    ("/instances/{instance_id}", "get"): INSTANCE,
    ("/instances/{instance_id}/{action}", "post"): INSTANCE,
    ("/instances", "get"): list_of(record({"id": INTEGER, "process": STRING, "title": STRING, "status": STRING,
                                           "business_key": STRING, "started_at": DATETIME})),
    ("/instances/{instance_id}/comments", "post"): record({"id": INTEGER, "body": STRING, "at": DATETIME}),
    ("/messages", "post"): record({"status": {"type": "string", "enum": ["delivered", "duplicate"]},
                                   "instance_id": INTEGER}),
    ("/instances/{instance_id}/diagram", "get"): record({"xml": STRING, "states": {"type": "object"}}),
    ("/substitutes", "get"): record({"items": array(SUBSTITUTE)}),
    ("/substitutes", "post"): SUBSTITUTE,
    ("/substitutes/{substitute_id}", "delete"): record({"deleted": INTEGER}),
})
