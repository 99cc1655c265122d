"""The task inbox and the task page."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict

from app.permissions import login_required
from app.extensions import db
from app.services import inbox, tasks
from app.services.errors import ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from app.web.nav import nav_item

bp = Blueprint("inbox", __name__)

TASK_COLUMNS = [
    (_l("案件"), lambda t: t.title),
    (_l("任务"), lambda t: t.name),
    (_l("流程"), lambda t: t.model_key),
    (_l("发起时间"), lambda t: t.instance.started_at),
    (_l("期限"), lambda t: t.due_at),
    (_l("签收人"), lambda t: t.claimed_by.display_name if t.claimed_by else ""),
]


@bp.route("/inbox")
@login_required
def index():
    filters = inbox.Filters.from_args(request.args)
    if wants_xlsx():
        return xlsx_response("tasks", _("任务"), TASK_COLUMNS, db.session.scalars(inbox.search(current_user, filters)))
    counts = inbox.counts(current_user)  # first: the page's total is one of them when nothing is filtered
    page = db.paginate(inbox.search(current_user, filters), per_page=25, error_out=False, count=False)
    page.total = inbox.total(current_user, filters)
    return render_template("inbox/index.html", page=page, f=filters, tab=filters.tab, counts=counts,
                           options=inbox.filter_options(current_user, filters), due_state=inbox.due_state)


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id):
    return _claim_action(task_id, tasks.claim, _("已签收。"))


@bp.route("/tasks/<int:task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id):
    return _claim_action(task_id, tasks.unclaim, _("已退回待办。"))


def _claim_action(task_id, action, done_message):
    """Claim/unclaim in place: htmx gets the updated row (with the cells of the tab it sits
    in) and, out of band, the tab counts and the nav badge; a plain form a redirect."""
    error = None
    try:
        row = action(current_user, task_id)
    except ServiceError as e:
        error = e.message
        row = tasks.get_task_for(current_user, task_id)
    if request.headers.get("HX-Request"):
        tab = request.args.get("tab") if request.args.get("tab") in inbox.TABS else "todo"
        return render_template("inbox/_claimed.html", t=row, tab=tab, due_state=inbox.due_state, error=error,
                               flash_message=None if error else done_message, counts=inbox.counts(current_user),
                               nav_item=nav_item("inbox.index"))
    flash(error or done_message, "danger" if error else "success")
    return redirect(request.referrer or url_for("inbox.index"))


@bp.route("/inbox/claim", methods=["POST"])
@login_required
def bulk_claim():
    claimed, refused = 0, 0
    for value in request.form.getlist("task_id"):
        try:
            tasks.claim(current_user, int(value))
            claimed += 1
        except (ServiceError, ValueError):
            refused += 1
    flash(_("已签收 %(n)d 项任务。", n=claimed) + (_("另有 %(n)d 项无法签收。", n=refused) if refused else ""),
          "success" if not refused else "warning")
    return redirect(request.referrer or url_for("inbox.index"))


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task(task_id):
    from app.services import cases
    row = tasks.get_task_for(current_user, task_id)
    formdata = CombinedMultiDict([request.files, request.form]) if request.method == "POST" else None
    form = tasks.build_form(row, formdata) if row.form_key else None
    status = 200
    if request.method == "POST":
        if request.form.get("action") == "draft":
            tasks.save_draft(current_user, task_id, request.form)
            flash(_("草稿已保存。"), "info")
            return redirect(url_for("inbox.task", task_id=task_id))
        try:
            tasks.complete(current_user, task_id, formdata)
        except ValidationFailed as e:
            form.add_errors(e.fields)
            flash(e.message, "danger")
        except ServiceError as e:
            flash(e.message, "danger")
            status = e.status
        else:
            flash(_("任务“%(name)s”已办理。", name=row.name), "success")
            return redirect(url_for("inbox.index"))
    return render_template("inbox/task.html", t=row, form=form, case=cases.case_view(current_user, row.instance_id),
                           can_act=tasks.may_act(current_user, row), due_state=inbox.due_state), status
