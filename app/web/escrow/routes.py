"""Escrow pages: accounts, ledger, disbursement requests, bank instructions, the center's head."""
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models import Bank, BankInstruction, Community, DisbursementRequest, EscrowAccount, User, UserRole
from app.permissions import login_required, roles_required
from app.services import escrow
from app.services.errors import ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from app.web.labels import INSTRUCTION_STATUSES, LEDGER_KINDS
from forms.escrow import CenterHeadForm, DisbursementRequestForm, LedgerFilterForm, OpenAccountForm

bp = Blueprint("escrow", __name__, url_prefix="/escrow")

ACCOUNT_COLUMNS = [
    (_l("小区"), lambda r: r["account"].community.name),
    (_l("物业企业"), lambda r: r["account"].enterprise.name),
    (_l("托管银行"), lambda r: r["account"].bank.name),
    (_l("余额（元）"), lambda r: r["balance"]),
    (_l("保证金下限（元）"), lambda r: r["floor"]),
]
LEDGER_COLUMNS = [
    (_l("记账时间"), lambda t: t.booked_at),
    (_l("类型"), lambda t: LEDGER_KINDS.get(t.kind, t.kind)),
    (_l("金额（元）"), lambda t: t.amount),
    (_l("摘要"), lambda t: t.memo),
    (_l("银行流水号"), lambda t: t.bank_serial or ""),
    (_l("指令编号"), lambda t: t.instruction_reference or ""),
]
INSTRUCTION_COLUMNS = [
    (_l("指令编号"), lambda i: i.reference),
    (_l("小区"), lambda i: i.escrow_account.community.name),
    (_l("收款方"), lambda i: i.to_name),
    (_l("金额（元）"), lambda i: i.amount),
    (_l("用途"), lambda i: i.purpose),
    (_l("状态"), lambda i: INSTRUCTION_STATUSES.get(i.status, i.status)),
    (_l("银行流水"), lambda i: i.bank_ref),
    (_l("生成时间"), lambda i: i.created_at),
]


@bp.route("/")
@login_required
def index():
    query = escrow.visible_accounts(current_user).order_by(EscrowAccount.id)

    def rows(accounts):
        return [{"account": a, "balance": escrow.balance(a.id), "floor": escrow.bond_floor(a)} for a in accounts]
    if wants_xlsx():
        return xlsx_response("escrow-accounts", _("监管账户"), ACCOUNT_COLUMNS, rows(db.session.scalars(query)))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("escrow/index.html", rows=rows(page.items), page=page)


@bp.route("/accounts/new", methods=["GET", "POST"])
@roles_required("housing_center", "admin")
def open_account():
    form = OpenAccountForm()
    form.community_id.choices = [(c.id, c.name) for c in db.session.scalars(
        db.select(Community).where(Community.enterprise_id.is_not(None)).order_by(Community.name))]
    form.bank_id.choices = [(b.id, b.name) for b in db.session.scalars(db.select(Bank).order_by(Bank.name))]
    if form.validate_on_submit():
        try:
            account = escrow.open_account(form.data, current_user)
        except ValidationFailed as e:
            for name, message in e.fields.items():
                getattr(form, name).errors.append(message)
        except ServiceError as e:
            flash(e.message, "danger")
        else:
            flash(_("监管账户已开设。"), "success")
            return redirect(url_for("escrow.account", account_id=account.id))
    return render_template("escrow/open.html", form=form)


def _ledger_filters(account):
    """The ledger filter form from the query string, and the query it gives (a bad filter
    shows its error at the field and filters nothing)."""
    filters = LedgerFilterForm(formdata=request.args)
    filters.kind.choices = [("", _("全部"))] + [(code, str(label)) for code, label in LEDGER_KINDS.items()]
    if request.args and not filters.validate():
        return filters, escrow.ledger_query(account)
    return filters, escrow.ledger_query(account, filters.kind.data or None, filters.date_from.data,
                                        filters.date_to.data)


@bp.route("/accounts/<int:account_id>", methods=["GET", "POST"])
@login_required
def account(account_id):
    account = escrow.get_account_for(current_user, account_id)
    form = DisbursementRequestForm()
    if request.method == "GET":
        form.year.data, quarter = escrow.current_quarter()
        form.quarter.data = str(min(quarter, 3))
    if form.validate_on_submit():
        try:
            req = escrow.request_disbursement(current_user, account.id, form.year.data, int(form.quarter.data))
        except ValidationFailed as e:
            for name, message in e.fields.items():
                getattr(form, name).errors.append(message)
            flash(e.message, "danger")
        except ServiceError as e:
            flash(e.message, "danger")
        else:
            flash(_("支付申请已提交，应拨付 %(amount)s 元，等待住保中心审批。", amount=req.payable), "success")
            return redirect(url_for("escrow.account", account_id=account.id))
    filters, query = _ledger_filters(account)
    ledger = db.paginate(query, per_page=50, error_out=False)
    requests_ = db.session.scalars(db.select(DisbursementRequest).where(
        DisbursementRequest.escrow_account_id == account.id).order_by(DisbursementRequest.id.desc())).all()
    return render_template("escrow/account.html", account=account, balance=escrow.balance(account.id),
                           floor=escrow.bond_floor(account), payable=escrow.payable_now(account),
                           bond=escrow.bond_paid(account.id), shortfall=escrow.bond_shortfall(account),
                           bond_mark=escrow.BOND_MARK, ledger=ledger, filters=filters, requests=requests_, form=form,
                           can_request=current_user.enterprise_id == account.enterprise_id)


@bp.route("/accounts/<int:account_id>/balance.json")
@login_required
def balance_series(account_id):
    account = escrow.get_account_for(current_user, account_id)
    return jsonify(points=[[at.isoformat(), str(amount)] for at, amount in escrow.balance_series(account)])


@bp.route("/accounts/<int:account_id>/ledger.xlsx")
@login_required
def ledger_export(account_id):
    """The ledger as shown (same filters), as Excel."""
    account = escrow.get_account_for(current_user, account_id)
    _filters, query = _ledger_filters(account)
    return xlsx_response(f"ledger-{account.id}", _("%(community)s 台账", community=account.community.name),
                         LEDGER_COLUMNS, db.session.scalars(query))


@bp.route("/instructions")
@roles_required("bank", "housing_center", "admin")
def instructions():
    query = db.select(BankInstruction).order_by(BankInstruction.id.desc())
    if current_user.bank_id and not current_user.has_role("housing_center", "admin"):
        query = query.where(BankInstruction.bank_id == current_user.bank_id)
    if request.args.get("status"):
        query = query.where(BankInstruction.status == request.args["status"])
    if wants_xlsx():
        return xlsx_response("instructions", _("支付指令"), INSTRUCTION_COLUMNS, db.session.scalars(query))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("escrow/instructions.html", page=page)


@bp.route("/accounts/<int:account_id>/agreement.pdf")
@login_required
def agreement_pdf(account_id):
    from app.models import Attachment
    from app.services import attachments
    account = escrow.get_account_for(current_user, account_id)
    row = db.session.get(Attachment, account.agreement.pdf_attachment_id) if account.agreement.pdf_attachment_id else None
    if row is None:
        abort(404)
    return send_file(attachments.path_of(row), mimetype="application/pdf", download_name=row.filename)


@bp.route("/heads", methods=["GET", "POST"])
@roles_required("admin")
def heads():
    """The center's head, to whom overdue disbursement approvals escalate."""
    form = CenterHeadForm()
    form.user_id.choices = [(u.id, u.display_name or u.username) for u in db.session.scalars(
        db.select(User).join(UserRole).where(UserRole.role == "housing_center", User.active.is_(True))
        .order_by(User.username))]
    if form.validate_on_submit():
        try:
            escrow.register_center_head(form.user_id.data, current_user)
        except ValidationFailed as e:
            form.user_id.errors = list(form.user_id.errors) + [e.fields.get("user_id", e.message)]
        else:
            flash(_("住保中心负责人已登记。"), "success")
            return redirect(url_for("escrow.heads"))
    return render_template("escrow/heads.html", form=form, head=escrow.center_head())
