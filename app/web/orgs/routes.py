"""Enterprises and communities: lists and detail pages, scoped to what the user may see."""
from datetime import timedelta

from markupsafe import escape

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models import Community, CreditRecord, Enterprise
from app.permissions import ensure_visible, login_required, roles_required, scoped
from app.services import contracts, filing, high_risk, orgs, personal_data
from app.services.errors import ValidationFailed
from app.web.contracts.routes import READERS as CONTRACT_READERS
from app.web.exports import wants_xlsx, xlsx_response
from app.web.labels import ENTERPRISE_FILING, RISK_STATUSES
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


ENTERPRISE_COLUMNS = [
    (_l("企业名称"), lambda e: e.name),
    (_l("统一社会信用代码"), lambda e: e.uscc),
    (_l("备案状态"), lambda e: ENTERPRISE_FILING.get(e.filing_status, e.filing_status)),
    (_l("资金监管"), lambda e: _("已纳入") if e.under_supervision else _("未纳入")),
    (_l("风险状态"), lambda e: RISK_STATUSES.get(e.risk_status, e.risk_status)),
    (_l("星级"), lambda e: e.star_rating),
    (_l("住所"), lambda e: e.address),
]
COMMUNITY_COLUMNS = [
    (_l("小区名称"), lambda c: c.name),
    (_l("街道办事处"), lambda c: c.street_office.name),
    (_l("物业企业"), lambda c: c.enterprise.name if c.enterprise else ""),
    (_l("户数"), lambda c: c.households),
    (_l("年度应收物业费（元）"), lambda c: c.annual_receivable_fee),
]


@bp.route("/enterprises")
@login_required
def enterprise_list():
    query, q = _enterprise_query()
    if wants_xlsx():
        return xlsx_response("enterprises", _("物业企业"), ENTERPRISE_COLUMNS, db.session.scalars(query))
    page = db.paginate(query, per_page=30, error_out=False)
    return render_template("orgs/enterprises.html", page=page, q=q)


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
                           filings=filing.filings_of(enterprise.id), listings=high_risk.listings_of(enterprise.id),
                           # as on the contract pages: only their readers, each the contracts it may see
                           contracts=contracts.of_enterprise(current_user, enterprise.id)
                           if current_user.has_role(*CONTRACT_READERS) else None,
                           contract_labels={"kinds": contracts.KINDS, "statuses": contracts.STATUSES},
                           today=contracts.today(), expiry_window=timedelta(days=contracts.EXPIRY_WINDOW_DAYS))


@bp.route("/communities")
@login_required
def community_list():
    query = scoped(Community).order_by(Community.name)
    if wants_xlsx():
        return xlsx_response("communities", _("小区"), COMMUNITY_COLUMNS, db.session.scalars(query))
    page = db.paginate(query, per_page=30, error_out=False)
    return render_template("orgs/communities.html", page=page)


@bp.route("/communities/<int:community_id>")
@login_required
def community_detail(community_id):
    community = ensure_visible(Community, community_id)
    return render_template("orgs/community.html", community=community)


@bp.route("/reveal/<kind>/<int:object_id>/<field>", methods=["POST"])
@login_required
def reveal(kind, object_id, field):
    """htmx: the full value in place of the masked one (audited)."""
    value = personal_data.reveal(current_user, kind, object_id, field)
    return f'<span data-testid="revealed">{escape(value)}</span>'
