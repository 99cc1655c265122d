"""Tasks, process instances and messages: the engine through the same services as the pages."""
from datetime import datetime

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.api import bp
from app.api.openapi import PATHS, op
from app.engine import runtime
from app.extensions import db
from app.models import HumanTask, InstanceEvent
from app.permissions import actionable_tasks
from app.services import tasks as task_service
from app.services.errors import Forbidden, ValidationFailed


def task_json(row: HumanTask, with_form=False) -> dict:
    data = {"id": row.id, "name": row.name, "process": row.model_key, "title": row.title, "role": row.role,
            "instance_id": row.instance_id, "status": row.status, "form_key": row.form_key,
            "claimed_by": row.claimed_by.username if row.claimed_by else None,
            "created_at": row.created_at.isoformat(), "due_at": row.due_at.isoformat() if row.due_at else None}
    if with_form:
        form = task_service.build_form(row, None, csrf=False)
        data["form"] = [{"name": f.name, "label": str(f.label.text), "type": f.type, "required": bool(f.flags.required),
                         "choices": [[str(v), str(lbl)] for v, lbl in getattr(f, "choices", None) or []] or None,
                         "description": str(f.description or "")}
                        for f in form if f.name not in task_service.SKIP_FIELDS]
    return data


def instance_json(instance) -> dict:
    events = db.session.scalars(db.select(InstanceEvent).where(InstanceEvent.instance_id == instance.id)
                                .options(selectinload(InstanceEvent.actor)).order_by(InstanceEvent.id)).all()
    open_tasks = db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                               HumanTask.status == "open")).all()
    return {"id": instance.id, "process": instance.model_key, "version": instance.version.number,
            "business_key": instance.business_key, "title": instance.title, "status": instance.status,
            "incident": instance.incident, "next_timer_at": instance.next_timer_at.isoformat()
            if instance.next_timer_at else None,
            "open_tasks": [task_json(t) for t in open_tasks],
            "timeline": [{"at": e.at.isoformat(), "kind": e.kind, "task": e.task_name,
                          "actor": e.actor.username if e.actor else None, "data": e.data, "message": e.message}
                         for e in events]}


@bp.get("/tasks")
def list_tasks():
    args = request.args
    query = actionable_tasks(current_user).where(HumanTask.status == "open")
    if args.get("process"):
        query = query.where(HumanTask.model_key == args["process"])
    if args.get("role"):
        query = query.where(HumanTask.role == args["role"])
    claimed = args.get("claimed")
    if claimed == "me":
        query = query.where(HumanTask.claimed_by_id == current_user.id)
    elif claimed == "none":
        query = query.where(HumanTask.claimed_by_id.is_(None))
    if args.get("due_before"):
        try:
            due = datetime.fromisoformat(args["due_before"])
        except ValueError:
            raise ValidationFailed(_("日期格式不正确。"), {"due_before": _("请使用 ISO 日期，如 2026-12-31。")})
        query = query.where(HumanTask.due_at <= due)
    if args.get("text"):
        like = f"%{args['text'].strip()}%"
        query = query.where(HumanTask.title.like(like) | HumanTask.name.like(like))
    rows = db.session.scalars(query.order_by(HumanTask.created_at, HumanTask.id).limit(500)).all()
    return jsonify(items=[task_json(r) for r in rows])


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
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed(_("请求体须为 JSON 对象。"))
    instance = task_service.complete(current_user, task_id, body, csrf=False)
    return jsonify(instance_json(instance))


@bp.post("/processes/<key>/instances")
def start_instance(key):
    body = request.get_json(silent=True) or {}
    data = body.get("data") or {}
    if not isinstance(data, dict):
        raise ValidationFailed(_("data 须为 JSON 对象。"), {"data": _("须为 JSON 对象。")})
    instance = task_service.start_case(current_user, key, business_key=str(body.get("business_key") or ""),
                                       title=str(body.get("title") or ""), data=data)
    return jsonify(instance_json(instance)), 201


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


PATHS.update({
    "/tasks": {"get": op("Open tasks for my roles (filters: process, role, claimed=me|none, due_before, text)")},
    "/tasks/{task_id}": {"get": op("A task with its form fields", {"404": {"description": "not visible"}},
                                   params=["task_id"])},
    "/tasks/{task_id}/claim": {"post": op("Claim a task", {"403": {"description": "not your role"},
                                                          "409": {"description": "claimed by another"}},
                                          params=["task_id"])},
    "/tasks/{task_id}/unclaim": {"post": op("Give a claimed task back", params=["task_id"])},
    "/tasks/{task_id}/complete": {"post": op("Complete a task with its form data", {
        "403": {"description": "not your role"}, "409": {"description": "already completed or claimed"},
        "422": {"description": "field errors"}}, body={"type": "object"}, params=["task_id"])},
    "/processes/{key}/instances": {"post": op("Start a case", {"201": {"description": "started"},
                                                              "403": {"description": "may not start"}},
                                              body={"type": "object", "properties": {
                                                  "business_key": {"type": "string"}, "title": {"type": "string"},
                                                  "data": {"type": "object"}}}, params=["key"])},
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


@bp.get("/instances")
def list_instances():
    from app.models import ProcessInstance
    from app.permissions import visible_instances
    query = visible_instances(current_user).order_by(ProcessInstance.id.desc())
    if request.args.get("process"):
        query = query.where(ProcessInstance.model_key == request.args["process"])
    if request.args.get("status"):
        query = query.where(ProcessInstance.status == request.args["status"])
    rows = db.session.scalars(query.limit(500)).all()
    return jsonify(items=[{"id": i.id, "process": i.model_key, "title": i.title, "status": i.status,
                           "business_key": i.business_key, "started_at": i.started_at.isoformat()} for i in rows])


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
    "/instances": {"get": op("Cases I may read (filters: process, status)")},
    "/instances/{instance_id}/comments": {"post": op("Comment on a case", {"201": {"description": "created"}},
                                                     params=["instance_id"], body={"type": "object", "properties": {
                                                         "body": {"type": "string"}}})},
    "/instances/{instance_id}/{action}": {"post": op("Suspend, resume, terminate (with reason) or retry a case",
                                                     {"403": {"description": "not a supervisor"}},
                                                     params=["instance_id", "action"], body={"type": "object"})},
})


# Success answers (kept apart from the operations above, which change with the inbox's filters).
from app.api.openapi import (BOOLEAN, DATETIME, INTEGER, STRING, array, document_responses, list_of,  # noqa: E402
                             nullable, record)

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
document_responses({
    ("/tasks", "get"): list_of(TASK),
    ("/tasks/{task_id}", "get"): TASK_WITH_FORM,
    ("/tasks/{task_id}/claim", "post"): TASK, ("/tasks/{task_id}/unclaim", "post"): TASK,
    ("/tasks/{task_id}/draft", "post"): TASK, ("/tasks/{task_id}/reassign", "post"): TASK,
    ("/tasks/{task_id}/complete", "post"): INSTANCE,
    ("/processes/{key}/instances", "post"): INSTANCE,
    ("/instances/{instance_id}", "get"): INSTANCE,
    ("/instances/{instance_id}/{action}", "post"): INSTANCE,
    ("/instances", "get"): list_of(record({"id": INTEGER, "process": STRING, "title": STRING, "status": STRING,
                                           "business_key": STRING, "started_at": DATETIME})),
    ("/instances/{instance_id}/comments", "post"): record({"id": INTEGER, "body": STRING, "at": DATETIME}),
    ("/messages", "post"): record({"status": {"type": "string", "enum": ["delivered", "duplicate"]},
                                   "instance_id": INTEGER}),
})
