"""Administration: the audit log and user accounts."""
import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models import AuditEvent, User
from app.permissions import roles_required
from app.roles import role_name
from app.services import users
from app.web.exports import wants_xlsx, xlsx_response

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _day_bound(value: str, end=False):
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.max if end else time.min, zone)


AUDIT_COLUMNS = [
    (_l("时间"), lambda e: e.at),
    (_l("操作人"), lambda e: e.actor_name),
    (_l("操作"), lambda e: e.action),
    (_l("对象"), lambda e: f"{e.target_type} {e.target_id}".strip()),
    (_l("变更前"), lambda e: json.dumps(e.before, ensure_ascii=False) if e.before else ""),
    (_l("变更后"), lambda e: json.dumps(e.after, ensure_ascii=False) if e.after else ""),
    ("IP", lambda e: e.ip),
]
USER_COLUMNS = [
    (_l("用户名"), lambda u: u.username),
    (_l("姓名"), lambda u: u.display_name),
    (_l("角色"), lambda u: " ".join(role_name(r) for r in sorted(u.roles))),
    (_l("状态"), lambda u: _("已锁定") if u.locked_at else (_("停用") if not u.active else _("正常"))),
]


@bp.route("/audit")
@roles_required("housing_center", "admin")
def audit_log():
    args = request.args
    query = db.select(AuditEvent).order_by(AuditEvent.id.desc())
    if args.get("actor"):
        query = query.where(AuditEvent.actor_name == args["actor"].strip())
    if args.get("action"):
        query = query.where(AuditEvent.action.startswith(args["action"].strip()))
    if args.get("target_type"):
        query = query.where(AuditEvent.target_type == args["target_type"].strip())
    if args.get("target_id"):
        query = query.where(AuditEvent.target_id == args["target_id"].strip())
    if args.get("since") and (since := _day_bound(args["since"])):
        query = query.where(AuditEvent.at >= since)
    if args.get("until") and (until := _day_bound(args["until"], end=True)):
        query = query.where(AuditEvent.at <= until)
    if wants_xlsx():
        return xlsx_response("audit-log", _("审计日志"), AUDIT_COLUMNS, db.session.scalars(query))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("admin/audit.html", page=page, args=args)


@bp.route("/users")
@roles_required("admin")
def user_list():
    query = db.select(User).order_by(User.username)
    if wants_xlsx():
        return xlsx_response("users", _("用户"), USER_COLUMNS, db.session.scalars(query))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("admin/users.html", users=page.items, page=page)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@roles_required("admin")
def unlock_user(user_id):
    user = db.get_or_404(User, user_id)
    users.unlock(user, current_user)
    flash(_("账号 %(name)s 已解锁。", name=user.username), "success")
    return redirect(url_for("admin.user_list"))


@bp.route("/calendar", methods=["GET", "POST"])
@roles_required("admin")
def calendar_days():
    """Statutory holidays and adjusted working days by year; the next year is added here
    when the State Council publishes it (the holiday package only knows published years)."""
    from app.engine import calendar
    from app.models import CalendarDay, CalendarYear
    from forms.orgs import CalendarDayForm
    year = request.args.get("year", type=int) or calendar.now().year + 1
    form = CalendarDayForm()
    if form.validate_on_submit():
        calendar.set_day(form.day.data, form.kind.data == "workday", form.name.data.strip(), actor=current_user)
        flash(_("已保存 %(day)s。", day=form.day.data.isoformat()), "success")
        return redirect(url_for("admin.calendar_days", year=form.day.data.year))
    days = db.session.scalars(db.select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)).order_by(CalendarDay.day)).all()
    complete = db.session.get(CalendarYear, year) is not None
    return render_template("admin/calendar.html", form=form, days=days, year=year, complete=complete)


@bp.route("/calendar/<int:year>/complete", methods=["POST"])
@roles_required("admin")
def calendar_year_complete(year):
    from app.engine import calendar
    calendar.mark_year_complete(year, actor=current_user)
    flash(_("%(year)d 年节假日数据已确认完整。", year=year), "success")
    return redirect(url_for("admin.calendar_days", year=year))
