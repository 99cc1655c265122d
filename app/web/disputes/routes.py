"""Dispute pages: caseload (a mediator's own cases, a street's, everyone's for supervisors),
the complaint form, a case page with its mediation sessions and documents, statistics and
the street mediation committees."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models import Attachment, HotlineReply, StreetMediator, StreetOffice, User, UserRole
from app.permissions import reads_all, roles_required
from app.services import disputes
from app.services.errors import ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from forms.disputes import ComplaintForm, MediatorForm, SessionForm, WorkOrderImportForm

bp = Blueprint("disputes", __name__, url_prefix="/disputes")

READERS = ("housing_center", "housing_bureau", "justice_bureau", "admin", "street_office", "mediator", "enterprise")
DISPUTE_COLUMNS = [
    (_l("受理时间"), lambda d: d.received_at),
    (_l("来源"), lambda d: disputes.SOURCES.get(d.source, d.source)),
    (_l("工单编号"), lambda d: d.work_order_no),
    (_l("小区"), lambda d: d.community.name if d.community else _("未匹配")),
    (_l("物业企业"), lambda d: d.enterprise.name if d.enterprise else ""),
    (_l("类别"), lambda d: d.category),
    (_l("状态"), lambda d: disputes.STATUSES.get(d.status, d.status)),
    (_l("紧急"), lambda d: _("是") if d.urgent else ""),
    (_l("调解员"), lambda d: (d.mediator.display_name or d.mediator.username) if d.mediator else ""),
]


def _labels():
    return {"sources": disputes.SOURCES, "statuses": disputes.STATUSES, "outcomes": disputes.OUTCOMES,
            "referrals": disputes.REFERRALS}


@bp.route("/")
@roles_required(*READERS)
def index():
    groups = disputes.caseload(current_user)
    status = request.args.get("status")
    if status:
        groups = {k: [d for d in v if d.status == status] for k, v in groups.items()}
    if wants_xlsx():
        return xlsx_response("disputes", _("纠纷案件"), DISPUTE_COLUMNS, [d for v in groups.values() for d in v])
    return render_template("disputes/index.html", groups=groups, status=status,
                           mine_only=current_user.has_role("mediator") and not reads_all(current_user), **_labels())


@bp.route("/new", methods=["GET", "POST"])
@roles_required("street_office", "housing_center", "admin")
def new():
    form = ComplaintForm()
    if form.validate_on_submit():
        try:
            dispute = disputes.create_complaint(current_user, form.data)
        except ValidationFailed as e:
            for name, message in e.fields.items():
                if name in form._fields:
                    form._fields[name].errors = list(form._fields[name].errors) + [message]
            flash(e.message, "danger")
        except ServiceError as e:
            flash(e.message, "danger")
        else:
            flash(_("投诉已登记。"), "success")
            return redirect(url_for("disputes.show", dispute_id=dispute.id))
    return render_template("disputes/new.html", form=form)


@bp.route("/import", methods=["GET", "POST"])
@roles_required("street_office", "housing_center", "admin")
def import_work_orders():
    form = WorkOrderImportForm()
    upload = form.validate_on_submit() and form.uploaded_table()
    if upload:
        try:
            job = disputes.start_import(current_user, *upload, back=url_for("disputes.index"))
        except ValidationFailed as e:
            form.file.errors = list(form.file.errors) + [e.fields.get("file", e.message)]
        else:
            return redirect(url_for("reports.job", job_id=job.id))  # its progress bar, then the result
    return render_template("disputes/import.html", form=form)


@bp.route("/<int:dispute_id>", methods=["GET"])
@roles_required(*READERS)
def show(dispute_id):
    dispute = disputes.get_for(current_user, dispute_id)
    return _render_case(dispute, SessionForm())


def _render_case(dispute, form):
    documents = db.session.scalars(db.select(Attachment).where(Attachment.instance_id == dispute.instance_id)
                                   .order_by(Attachment.id)).all() if dispute.instance_id else []
    reply = db.session.scalar(db.select(HotlineReply).where(HotlineReply.dispute_id == dispute.id))
    can_record = (dispute.status == "mediation" and dispute.mediator_id == current_user.id
                  and dispute.street_office_id in disputes.mediator_streets(current_user))
    return render_template("disputes/show.html", d=dispute, form=form, documents=documents, reply=reply,
                           can_record=can_record, **_labels())


@bp.route("/<int:dispute_id>/sessions", methods=["POST"])
@roles_required("mediator")
def add_session(dispute_id):
    dispute = disputes.get_for(current_user, dispute_id)
    form = SessionForm()
    if form.validate_on_submit():
        try:
            disputes.add_session(current_user, dispute.id, form.data)
        except ValidationFailed as e:
            for name, message in e.fields.items():
                if name in form._fields:
                    form._fields[name].errors = list(form._fields[name].errors) + [message]
            flash(e.message, "danger")
        except ServiceError as e:
            flash(e.message, "danger")
            return _render_case(dispute, form), e.status
        else:
            flash(_("调解记录已保存。"), "success")
            return redirect(url_for("disputes.show", dispute_id=dispute.id))
    return _render_case(dispute, form), 422


STAT_FIGURES = [("total", _l("案件总数")), ("open", _l("办理中")), ("avg_days", _l("平均办结天数")),
                ("avg_satisfaction", _l("平均满意度")), ("satisfied_rate", _l("满意率（%）"))]
STAT_GROUPS = [("by_category", _l("按类别")), ("by_month", _l("按月份")), ("by_community", _l("按小区")),
               ("by_enterprise", _l("按物业企业")), ("by_outcome", _l("按处理结果"))]
STAT_COLUMNS = [(_l("统计口径"), lambda r: r[0]), (_l("项目"), lambda r: r[1]), (_l("数值"), lambda r: r[2])]


@bp.route("/stats")
@roles_required("housing_center", "housing_bureau", "justice_bureau", "admin", "street_office")
def stats():
    s = disputes.statistics(current_user)
    if wants_xlsx():  # the figures on the page, one per row
        rows = [(_("概况"), str(label), s[key]) for key, label in STAT_FIGURES] + [
            (str(title), label, n) for key, title in STAT_GROUPS for label, n in s[key]]
        return xlsx_response("dispute-stats", _("纠纷统计"), STAT_COLUMNS, rows)
    return render_template("disputes/stats.html", s=s, groups=STAT_GROUPS)


@bp.route("/mediators", methods=["GET", "POST"])
@roles_required("housing_center", "admin", "street_office")
def mediators():
    form = MediatorForm()
    offices = db.select(StreetOffice).order_by(StreetOffice.name)
    if current_user.street_office_id and not current_user.has_role("housing_center", "admin"):
        offices = offices.where(StreetOffice.id == current_user.street_office_id)
    form.street_office_id.choices = [(o.id, o.name) for o in db.session.scalars(offices)]
    form.user_id.choices = [(u.id, u.display_name or u.username) for u in db.session.scalars(
        db.select(User).join(UserRole).where(UserRole.role == "mediator").order_by(User.username))]
    if form.validate_on_submit():
        try:
            disputes.register_mediator(form.user_id.data, form.street_office_id.data, current_user)
        except ServiceError as e:
            flash(e.message, "danger")
        else:
            flash(_("调解员已登记。"), "success")
            return redirect(url_for("disputes.mediators"))
    office_ids = [o for o, _name in form.street_office_id.choices]
    rows = db.session.scalars(db.select(StreetMediator).where(StreetMediator.street_office_id.in_(office_ids))).all()
    return render_template("disputes/mediators.html", form=form, rows=rows)
