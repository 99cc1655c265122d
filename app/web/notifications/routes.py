"""Each user's in-app notifications (new tasks, overdue tasks, decisions on their
requests, the daily digest), newest first."""
from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.permissions import login_required
from app.services import notify
from app.web.exports import wants_xlsx, xlsx_response

bp = Blueprint("notifications", __name__)
KINDS = {"task": _l("新任务"), "overdue": _l("超期"), "decision": _l("办理结果"), "digest": _l("每日汇总"),
         "filing": _l("备案"), "contract": _l("合同备案"), "contract_renewal": _l("合同续签"),
         "high_risk": _l("高风险管控"), "inspection": _l("日常检查"), "evaluation": _l("年度考评"),
         "takeover": _l("应急接管"), "device_fault": _l("设备故障"), "build_plan": _l("建设方案")}
COLUMNS = [(_l("时间"), lambda n: n.created_at), (_l("类别"), lambda n: KINDS.get(n.kind, n.kind)),
           (_l("标题"), lambda n: n.title), (_l("内容"), lambda n: n.body), (_l("已读时间"), lambda n: n.read_at)]


@bp.route("/notifications")
@login_required
def index():
    rows = notify.recent(current_user)
    if wants_xlsx():
        return xlsx_response("notifications", _("消息"), COLUMNS, rows)
    return render_template("notifications/index.html", rows=rows, kinds=KINDS)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    notify.mark_read(current_user)
    return redirect(url_for("notifications.index"))
