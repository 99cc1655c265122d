"""Case lists and case pages, with supervisor actions."""
from flask import Blueprint, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models import ProcessInstance, User
from app.permissions import login_required, may_supervise
from app.services import attachments, cases, tasks
from app.services.errors import ServiceError
from app.web.exports import wants_xlsx, xlsx_response
from app.web.labels import status_name

bp = Blueprint("cases", __name__)

CASE_COLUMNS = [
    ("#", lambda i: i.id),
    (_l("案件"), lambda i: i.title),
    (_l("流程"), lambda i: f"{i.model_key} v{i.version.number}"),
    (_l("状态"), lambda i: status_name(i.status)),
    (_l("发起时间"), lambda i: i.started_at),
]


@bp.route("/cases")
@login_required
def index():
    args = request.args
    query = cases.search(current_user, process=args.get("process", ""), status=args.get("status", ""),
                         incident=args.get("incident") == "1", overdue=args.get("overdue") == "1",
                         q=args.get("q", ""))
    if wants_xlsx():
        return xlsx_response("cases", _("案件"), CASE_COLUMNS, db.session.scalars(query))
    page = db.paginate(query, per_page=25, error_out=False)
    processes = db.session.scalars(db.select(ProcessInstance.model_key).distinct()).all()
    return render_template("cases/index.html", page=page, args=args, statuses=cases.STATUSES, processes=processes)


@bp.route("/cases/<int:instance_id>")
@login_required
def show(instance_id):
    case = cases.case_view(current_user, instance_id)
    return render_template("cases/show.html", case=case, can_supervise=may_supervise(current_user))


@bp.route("/cases/<int:instance_id>/diagram.json")
@login_required
def diagram(instance_id):
    return jsonify(cases.diagram(current_user, instance_id))


@bp.route("/cases/<int:instance_id>/comments", methods=["POST"])
@login_required
def comment(instance_id):
    try:
        cases.add_comment(current_user, instance_id, request.form.get("body", ""))
        flash(_("意见已发表。"), "success")
    except ServiceError as e:
        if e.status in (403, 404):
            raise  # not the user's case or not the user's to do: refused like any page, not as a message
        flash(e.message, "danger")
    return redirect(request.referrer or url_for("cases.show", instance_id=instance_id))


@bp.route("/cases/<int:instance_id>/<any(suspend, resume, terminate, retry):action>", methods=["POST"])
@login_required
def supervise(instance_id, action):
    try:
        tasks.supervise(current_user, instance_id, action, request.form.get("reason", ""))
        flash(_("操作已完成。"), "success")
    except ServiceError as e:
        if e.status in (403, 404):
            raise  # not the user's case or not the user's to do: refused like any page, not as a message
        flash(e.message, "danger")
    return redirect(url_for("cases.show", instance_id=instance_id))


@bp.route("/tasks/<int:task_id>/reassign", methods=["POST"])
@login_required
def reassign(task_id):
    to_user = db.session.scalar(db.select(User).where(User.username == request.form.get("username", "").strip()))
    try:
        tasks.reassign(current_user, task_id, to_user)
        flash(_("任务已改派给 %(name)s。", name=to_user.display_name), "success")
    except ServiceError as e:
        if e.status in (403, 404):
            raise  # not the user's case or not the user's to do: refused like any page, not as a message
        flash(e.message, "danger")
    return redirect(request.referrer or url_for("inbox.task", task_id=task_id))


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id):
    row = cases.attachment_for(current_user, attachment_id)  # 404 unless its case is visible
    return send_file(attachments.path_of(row), mimetype=row.content_type, as_attachment=True,
                     download_name=row.filename)
