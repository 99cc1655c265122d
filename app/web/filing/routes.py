"""Enterprise filing and the high-risk list: the enterprise's own filing page, the center's
demands and register import, enterprise sign-up, and the public pages (no login)."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db, limiter
from app.models import Disclosure, Enterprise, EnterpriseFiling, HighRiskListing, HumanTask
from app.permissions import login_required, public, roles_required
from app.services import filing as filing_service
from app.services import high_risk
from app.services.errors import ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from app.web.paging import paginate_list
from app.web.labels import FILING_STATUSES, LISTING_STATUSES
from forms.filing import EnterpriseSignupForm, FilingDemandForm, RegisterImportForm, UnfiledEnterpriseForm

bp = Blueprint("filing", __name__)

SUPERVISORS = ("housing_center", "housing_bureau", "admin")
FILING_COLUMNS = [
    (_l("企业"), lambda f: f.enterprise.name),
    (_l("统一社会信用代码"), lambda f: f.enterprise.uscc),
    (_l("方式"), lambda f: _("督促备案") if f.origin == "demand" else _("企业申报")),
    (_l("状态"), lambda f: FILING_STATUSES.get(f.status, f.status)),
    (_l("轮次"), lambda f: f.rounds),
    (_l("备案期限"), lambda f: f.deadline),
]
LISTING_COLUMNS = [
    (_l("企业"), lambda l: l.enterprise.name),
    (_l("状态"), lambda l: LISTING_STATUSES.get(l.status, l.status)),
    (_l("列入理由"), lambda l: l.reason),
    (_l("列入日期"), lambda l: l.listed_at),
    (_l("移出日期"), lambda l: l.removed_at),
]


def _field_errors(form, error: ValidationFailed) -> None:
    for name, message in error.fields.items():
        if name in form._fields:
            form._fields[name].errors = list(form._fields[name].errors) + [message]
    flash(error.message, "danger")


def task_view(task) -> dict | None:
    """For the task page of a filing case (templates/tasks/filing.html): the last submission."""
    filing = filing_service.filing_for_instance(task.instance_id)
    return filing_service.submission_view(filing) if filing else None


@bp.record_once
def _register_globals(state):
    state.app.jinja_env.globals.update(filing_task_view=task_view)


def _open_enterprise_task(instance_id: int):
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "open", HumanTask.role == "enterprise"))


@bp.route("/filing")
@login_required
def index():
    """The enterprise's own filing (status, what to supplement, deadlines), or, for the
    center and the bureau, every filing case."""
    if current_user.has_role(*SUPERVISORS):
        query = db.select(EnterpriseFiling).order_by(EnterpriseFiling.id.desc())
        if request.args.get("status"):
            query = query.where(EnterpriseFiling.status == request.args["status"])
        if wants_xlsx():
            return xlsx_response("filings", _("企业备案"), FILING_COLUMNS, db.session.scalars(query))
        page = db.paginate(query, per_page=30, error_out=False)
        return render_template("filing/index.html", page=page)
    if not current_user.enterprise_id:
        return redirect(url_for("main.index"))
    enterprise = db.session.get(Enterprise, current_user.enterprise_id)
    filings = filing_service.filings_of(enterprise.id)
    tasks = {f.id: _open_enterprise_task(f.instance_id) for f in filings if f.instance_id}
    return render_template("filing/mine.html", enterprise=enterprise, filings=filings, tasks=tasks,
                           listings=high_risk.listings_of(enterprise.id))


@bp.route("/filing/start", methods=["POST"])
@roles_required("enterprise")
def start():
    try:
        filing = filing_service.start_filing(current_user)
    except ServiceError as e:
        flash(e.message, "danger")
        return redirect(url_for("filing.index"))
    task = _open_enterprise_task(filing.instance_id)
    return redirect(url_for("inbox.task", task_id=task.id))


@bp.route("/filing/demands/new", methods=["GET", "POST"])
@roles_required("housing_center", "admin")
def demand_new():
    form = FilingDemandForm()
    candidates = db.session.scalars(db.select(Enterprise).where(Enterprise.filing_status.in_(("unfiled", "refused")))
                                    .order_by(Enterprise.name)).all()
    form.enterprise_id.choices = [(e.id, f"{e.name}（{e.uscc}）") for e in candidates]
    if request.method == "GET":
        form.enterprise_id.data = request.args.get("enterprise_id", type=int)
        form.deadline.data = filing_service.default_deadline()
    if form.validate_on_submit():
        try:
            filing = filing_service.issue_demand(current_user, form.enterprise_id.data, form.deadline.data,
                                                 form.finding.data)
        except ValidationFailed as e:
            _field_errors(form, e)
        except ServiceError as e:
            flash(e.message, "danger")
        else:
            flash(_("备案督促通知书已发出。"), "success")
            return redirect(url_for("cases.show", instance_id=filing.instance_id))
    return render_template("filing/demand.html", form=form)


@bp.route("/filing/unfiled/new", methods=["GET", "POST"])
@roles_required("housing_center", "admin")
def unfiled_new():
    form = UnfiledEnterpriseForm()
    if form.validate_on_submit():
        try:
            enterprise = filing_service.register_unfiled(form.data, current_user)
        except ValidationFailed as e:
            _field_errors(form, e)
        else:
            flash(_("已登记未备案企业，请发出备案督促。"), "success")
            return redirect(url_for("filing.demand_new", enterprise_id=enterprise.id))
    return render_template("filing/unfiled.html", form=form)


@bp.route("/filing/import", methods=["GET", "POST"])
@roles_required("housing_center", "admin")
def register_import():
    form = RegisterImportForm()
    upload = form.validate_on_submit() and form.uploaded_table()
    if upload:
        try:
            job = filing_service.start_register_import(*upload, current_user,
                                                       back=url_for("orgs.enterprise_list", filing="unfiled"))
        except ValidationFailed as e:
            _field_errors(form, e)
        else:
            return redirect(url_for("reports.job", job_id=job.id))
    return render_template("filing/import.html", form=form)


@bp.route("/signup", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = EnterpriseSignupForm()
    if form.validate_on_submit():
        try:
            filing_service.signup_enterprise(form.data)
        except ValidationFailed as e:
            _field_errors(form, e)
        else:
            flash(_("账号已开通，请登录后办理企业备案。"), "success")
            return redirect(url_for("auth.login"))
    return render_template("filing/signup.html", form=form)


# --- high-risk list ----------------------------------------------------------------------------

@bp.route("/high-risk")
@roles_required(*SUPERVISORS)
def high_risk_index():
    query = db.select(HighRiskListing).order_by(HighRiskListing.id.desc())
    if request.args.get("status"):
        query = query.where(HighRiskListing.status == request.args["status"])
    if wants_xlsx():
        return xlsx_response("high-risk", _("高风险企业管控名单"), LISTING_COLUMNS, db.session.scalars(query))
    page = db.paginate(query, per_page=30, error_out=False)
    return render_template("filing/high_risk.html", page=page)


@bp.route("/high-risk/propose", methods=["POST"])
@roles_required("housing_center")
def high_risk_propose():
    try:
        listing = high_risk.propose(current_user, request.form.get("enterprise_id", type=int) or 0)
    except ServiceError as e:
        flash(e.message, "danger")
        return redirect(request.referrer or url_for("filing.high_risk_index"))
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == listing.instance_id,
                                                        HumanTask.status == "open"))
    return redirect(url_for("inbox.task", task_id=task.id))


@bp.route("/public/high-risk")
@public
def public_high_risk():
    return render_template("filing/public_high_risk.html", listings=paginate_list(high_risk.public_list(), 50))


@bp.route("/public/communities/<int:community_id>")
@public
def public_community(community_id):
    """The short address printed on earlier notices: the community's public page lives with
    the evaluation (enterprise, stars, grade, score, escrow, contract and every disclosure)."""
    return redirect(url_for("evaluation.public_community", community_id=community_id), 301)


@bp.route("/public/disclosures/<int:disclosure_id>.pdf")
@public
def public_disclosure_pdf(disclosure_id):
    from flask import send_file
    from app.services.attachments import path_of
    notice = db.get_or_404(Disclosure, disclosure_id)
    if notice.attachment is None:
        return render_template("error.html", status=404, message=_("该公示没有附件。")), 404
    return send_file(path_of(notice.attachment), mimetype="application/pdf", download_name=notice.attachment.filename)
