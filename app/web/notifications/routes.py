"""Each user's in-app notifications (new tasks, overdue tasks, decisions on their
requests, the daily digest), newest first."""
from flask import Blueprint, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.permissions import login_required
from app.services import notify

bp = Blueprint("notifications", __name__)
KINDS = {"task": _l("新任务"), "overdue": _l("超期"), "decision": _l("办理结果"), "digest": _l("每日汇总"),
         "filing": _l("备案"), "device_fault": _l("设备故障"), "build_plan": _l("建设方案")}


@bp.route("/notifications")
@login_required
def index():
    return render_template("notifications/index.html", rows=notify.recent(current_user), kinds=KINDS)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    notify.mark_read(current_user)
    return redirect(url_for("notifications.index"))
