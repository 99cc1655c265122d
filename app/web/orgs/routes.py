"""Enterprises and communities: lists and detail pages, scoped to what the user may see."""
import io

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import Community, CreditRecord, Enterprise
from app.permissions import ensure_visible, login_required, roles_required, scoped
from app.services import filing, high_risk, orgs
from app.services.errors import ValidationFailed
from forms.orgs import EnterpriseForm

bp = Blueprint("orgs", __name__)


def _enterprise_query():
    """The enterprises the user may see, with the list's filters (kept in the URL)."""
    q = (request.args.get("q") or "").strip()
    query = scoped(Enterprise).order_by(Enterprise.name)
    if q:
        query = query.where(Enterprise.name.contains(q) | Enterprise.uscc.contains(q.upper()))
    if request.args.get("filing"):
        query = query.where(Enterprise.filing_status == request.args["filing"])
    if request.args.get("risk"):
        query = query.where(Enterprise.risk_status == request.args["risk"])
    if request.args.get("supervised") in ("yes", "no"):
        query = query.where(Enterprise.under_supervision.is_(request.args["supervised"] == "yes"))
    return query, q


@bp.route("/enterprises")
@login_required
def enterprise_list():
    query, q = _enterprise_query()
    page = db.paginate(query, per_page=30, error_out=False)
    return render_template("orgs/enterprises.html", page=page, q=q)


@bp.route("/enterprises.xlsx")
@login_required
def enterprise_export():
    from openpyxl import Workbook
    from app.web.labels import ENTERPRISE_FILING, RISK_STATUSES
    query, _q = _enterprise_query()
    wb = Workbook()
    ws = wb.active
    ws.title = _("物业企业")
    ws.append([_("企业名称"), _("统一社会信用代码"), _("备案状态"), _("资金监管"), _("风险状态"), _("星级"), _("住所")])
    for e in db.session.scalars(query.limit(20000)):
        ws.append([e.name, e.uscc, str(ENTERPRISE_FILING.get(e.filing_status, e.filing_status)),
                   _("已纳入") if e.under_supervision else _("未纳入"), str(RISK_STATUSES.get(e.risk_status, e.risk_status)),
                   e.star_rating or "", e.address])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name="enterprises.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/enterprises/new", methods=["GET", "POST"])
@roles_required("housing_center", "admin")
def enterprise_new():
    form = EnterpriseForm()
    if form.validate_on_submit():
        try:
            enterprise = orgs.create_enterprise(form.data, actor=current_user)
        except ValidationFailed as e:
            for name, message in e.fields.items():
                getattr(form, name).errors.append(message)
        else:
            flash(_("企业已登记。"), "success")
            return redirect(url_for("orgs.enterprise_detail", enterprise_id=enterprise.id))
    return render_template("orgs/enterprise_form.html", form=form)


@bp.route("/enterprises/<int:enterprise_id>")
@login_required
def enterprise_detail(enterprise_id):
    enterprise = ensure_visible(Enterprise, enterprise_id)
    communities = db.session.scalars(scoped(Community).where(Community.enterprise_id == enterprise.id)
                                     .order_by(Community.name)).all()
    credit = db.session.scalars(db.select(CreditRecord).where(CreditRecord.enterprise_id == enterprise.id)
                                .order_by(CreditRecord.recorded_at.desc()).limit(200)).all()
    return render_template("orgs/enterprise.html", enterprise=enterprise, communities=communities, credit=credit,
                           filings=filing.filings_of(enterprise.id), listings=high_risk.listings_of(enterprise.id))


@bp.route("/communities")
@login_required
def community_list():
    page = db.paginate(scoped(Community).order_by(Community.name), per_page=30, error_out=False)
    return render_template("orgs/communities.html", page=page)


@bp.route("/communities/<int:community_id>")
@login_required
def community_detail(community_id):
    community = ensure_visible(Community, community_id)
    return render_template("orgs/community.html", community=community)
