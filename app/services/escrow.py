"""Escrow of property fees: the bond floor, balances from the ledger, posting bank
transactions exactly once, quarterly disbursement requests and bank instructions.

Policy 三(五) and the four-party agreement, art. 5: the balance must stay at or above 5 %
of the community's annual receivable fee (the bond floor); in Q1–Q3 the enterprise may
request, once a quarter, the part above the floor; below the floor nothing is paid. The
housing center acts within 5 working days and sends the bank a payment instruction.
"""
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from app.engine import runtime
from app.engine.calendar import now
from app.engine.registry import operator
from app.extensions import db
from app.integrations.bank import BankRejected, BankUnavailable, client_from_config
from app.models import (BankInstruction, Community, DisbursementRequest, EscrowAccount, EscrowAgreement, LedgerEntry,
                        LedgerTxn)
from app.models.base import utcnow
from app.services import audit, documents
from app.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.validators import is_valid_bank_account

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")


def to_fen(value: Decimal) -> Decimal:
    """Round to the fen, half up (0.005 → 0.01): the rule for every computed amount."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def parse_amount(text, field: str = "amount") -> Decimal:
    """A positive amount with at most two decimals, or ValidationFailed at `field`."""
    try:
        amount = Decimal(str(text).strip())
    except (InvalidOperation, TypeError):
        raise ValidationFailed(_("金额须为数字。"), {field: _("金额须为数字。")})
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed(_("金额须大于 0。"), {field: _("金额须大于 0。")})
    if amount > MAX_AMOUNT:  # what NUMERIC(18,2) holds (also keeps quantize from overflowing)
        raise ValidationFailed(_("金额过大。"), {field: _("金额过大。")})
    if amount != amount.quantize(FEN):
        raise ValidationFailed(_("金额最多保留两位小数（分）。"), {field: _("金额最多保留两位小数（分）。")})
    return amount


# ---------------------------------------------------------------- balances

def balance(account_id: int) -> Decimal:
    total = db.session.scalar(db.select(db.func.coalesce(db.func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.escrow_account_id == account_id, LedgerEntry.book == "bank"))
    return to_fen(Decimal(total))


def bond_floor(account: EscrowAccount) -> Decimal:
    """5 % (the agreement's rate) of the community's annual receivable fee."""
    return to_fen(account.community.annual_receivable_fee * account.agreement.bond_rate)


def payable_now(account: EscrowAccount) -> Decimal:
    return max(Decimal("0.00"), balance(account.id) - bond_floor(account))


def _post(account_id: int, kind: str, amount: Decimal, entries: list[tuple[str, Decimal]], *, memo="",
          bank_serial=None, instruction_reference=None) -> LedgerTxn:
    assert sum(a for _, a in entries) == 0, "a ledger transaction must balance"
    txn = LedgerTxn(escrow_account_id=account_id, kind=kind, amount=amount, memo=memo, bank_serial=bank_serial,
                    instruction_reference=instruction_reference)
    txn.entries = [LedgerEntry(escrow_account_id=account_id, book=book, amount=value) for book, value in entries]
    db.session.add(txn)
    return txn


def post_bank_transaction(account: EscrowAccount, tx: dict) -> LedgerTxn | None:
    """Post a transaction from the bank's statement or notification exactly once (keyed on
    the bank serial). Credits are owner payments or the enterprise's offline deposits;
    debits are our own instructions, posted when they settle (matched by serial)."""
    serial = tx["serial"]
    if db.session.scalar(db.select(LedgerTxn.id).where(LedgerTxn.escrow_account_id == account.id,
                                                       LedgerTxn.bank_serial == serial)):
        return None
    amount = Decimal(tx["amount"])
    if tx["direction"] != "credit":
        return None  # our debits are booked at settlement; an unknown debit shows in reconciliation
    offline = tx.get("counterparty") == account.enterprise.name
    kind = "offline_deposit" if offline else "owner_payment"
    return _post(account.id, kind, amount, [("bank", amount), ("owners", -amount)],
                 memo=f"{tx.get('counterparty', '')} {tx.get('memo', '')}".strip(), bank_serial=serial)


def post_statement_page(account: EscrowAccount, transactions: list[dict]) -> int:
    """Post a page of bank transactions in bulk: serials already in the ledger are skipped,
    and the (account, serial) unique constraint refuses any that slip through a race."""
    credits = [tx for tx in transactions if tx["direction"] == "credit"]
    if not credits:
        return 0
    seen = set(db.session.scalars(db.select(LedgerTxn.bank_serial).where(
        LedgerTxn.escrow_account_id == account.id, LedgerTxn.bank_serial.in_([tx["serial"] for tx in credits]))))
    new = [tx for tx in credits if tx["serial"] not in seen]
    if not new:
        return 0
    enterprise_name = account.enterprise.name
    rows = [{"escrow_account_id": account.id, "amount": Decimal(tx["amount"]), "bank_serial": tx["serial"],
             "kind": "offline_deposit" if tx.get("counterparty") == enterprise_name else "owner_payment",
             "memo": f"{tx.get('counterparty', '')} {tx.get('memo', '')}".strip(), "booked_at": utcnow()}
            for tx in new]
    ids = db.session.scalars(db.insert(LedgerTxn).returning(LedgerTxn.id, sort_by_parameter_order=True), rows).all()
    entries = []
    for txn_id, row in zip(ids, rows):
        entries.append({"txn_id": txn_id, "escrow_account_id": account.id, "book": "bank", "amount": row["amount"]})
        entries.append({"txn_id": txn_id, "escrow_account_id": account.id, "book": "owners", "amount": -row["amount"]})
    db.session.execute(db.insert(LedgerEntry), entries)
    return len(new)


def pull_statement(account: EscrowAccount) -> int:
    """Fetch the bank statement since the stored cursor and post what is new, a page per
    transaction (memory stays flat however long the statement)."""
    client = client_from_config(current_app.config)
    posted = 0
    while True:
        page = client.statement(account.account_no, cursor=account.statement_cursor)
        posted += post_statement_page(account, page["transactions"])
        account.statement_cursor = page["cursor"]
        db.session.commit()
        if not page.get("more"):
            return posted


def ledger_balances() -> dict[int, Decimal]:
    """Every account's bank-book balance in one query (for reconciling them all)."""
    rows = db.session.execute(db.select(LedgerEntry.escrow_account_id, db.func.sum(LedgerEntry.amount))
                              .where(LedgerEntry.book == "bank").group_by(LedgerEntry.escrow_account_id))
    return {account_id: to_fen(Decimal(total)) for account_id, total in rows}


# ---------------------------------------------------------------- agreements and accounts

def open_account(data: dict, actor) -> EscrowAccount:
    """Record the four-party agreement and open the supervised account at the bank."""
    community = db.session.get(Community, int(data["community_id"]))
    errors = {}
    if community is None or community.enterprise_id is None:
        errors["community_id"] = _("请选择由物业企业服务的小区。")
    if not is_valid_bank_account(str(data.get("payee_account_no", ""))):
        errors["payee_account_no"] = _("银行账号格式或校验位不正确。")
    if not (data.get("payee_name") or "").strip():
        errors["payee_name"] = _("请填写收款户名。")
    if community is not None and db.session.scalar(db.select(EscrowAccount.id).where(
            EscrowAccount.community_id == community.id, EscrowAccount.enterprise_id == community.enterprise_id)):
        errors["community_id"] = _("该小区已开设监管账户。")
    if errors:
        raise ValidationFailed(_("监管账户信息有误。"), errors)
    today = now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    agreement = EscrowAgreement(community_id=community.id, enterprise_id=community.enterprise_id,
                                bank_id=int(data["bank_id"]), device_supplier_id=data.get("device_supplier_id"),
                                signed_on=data.get("signed_on") or today, starts_on=data.get("starts_on") or today)
    db.session.add(agreement)
    db.session.flush()
    name = f"{community.name}物业服务费监管账户"
    try:
        opened = client_from_config(current_app.config).open_account(f"community-{community.id}", name)
    except (BankUnavailable, BankRejected) as e:
        db.session.rollback()
        raise ServiceError(_("银行暂时无法开户，请稍后再试（%(error)s）。", error=e))
    account = EscrowAccount(agreement_id=agreement.id, community_id=community.id, enterprise_id=community.enterprise_id,
                            bank_id=agreement.bank_id, account_no=opened["account_no"], account_name=name,
                            payee_account_no=str(data["payee_account_no"]), payee_name=data["payee_name"].strip())
    db.session.add(account)
    community.enterprise.under_supervision = True
    db.session.flush()
    agreement.pdf_attachment_id = documents.generate(
        "documents/escrow_agreement.html", f"{community.name}物业服务费监管协议", kind="escrow_agreement", actor=actor,
        enterprise=community.enterprise, community=community, bank=agreement.bank, supplier=agreement.device_supplier,
        account=account, agreement=agreement, floor=to_fen(community.annual_receivable_fee * agreement.bond_rate)).id
    audit.record("escrow.open_account", account, after={"community_id": community.id, "bank_id": agreement.bank_id,
                                                        "account_no": account.account_no_masked}, actor=actor)
    db.session.commit()
    return account


# ---------------------------------------------------------------- quarterly disbursement

def current_quarter(today: date | None = None) -> tuple[int, int]:
    today = today or now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    return today.year, (today.month - 1) // 3 + 1


def request_disbursement(user, account_id: int, year: int, quarter: int) -> DisbursementRequest:
    account = db.session.get(EscrowAccount, account_id)
    if account is None or user.enterprise_id != account.enterprise_id:
        raise NotFound(_("监管账户不存在。"))
    this_year, this_quarter = current_quarter()
    if quarter not in (1, 2, 3):
        raise ValidationFailed(_("第四季度不予拨付，年终根据考评结果结算。"), {"quarter": _("只能申请前三季度。")})
    if (year, quarter) > (this_year, this_quarter) or year < this_year:
        raise ValidationFailed(_("只能申请本年度已开始的季度。"), {"quarter": _("只能申请本年度已开始的季度。")})
    key = f"{account.id}:{year}:{quarter}"
    if db.session.scalar(db.select(DisbursementRequest.id).where(DisbursementRequest.active_key == key)):
        raise Conflict(_("%(year)d 年第 %(q)d 季度已申请过，每季度只能申请一次。", year=year, q=quarter))
    current, floor = balance(account.id), bond_floor(account)
    if current <= floor:
        raise ValidationFailed(
            _("监管资金余额 %(b)s 元未超过履约保证金下限 %(f)s 元，本季度不予拨付。", b=current, f=floor),
            {"quarter": _("余额未超过 5% 保证金下限。")})
    request = DisbursementRequest(escrow_account_id=account.id, year=year, quarter=quarter, balance=current,
                                  floor=floor, payable=current - floor, requested_by_id=user.id, active_key=key)
    db.session.add(request)
    db.session.flush()
    audit.record("escrow.request", request, after={"year": year, "quarter": quarter, "payable": request.payable},
                 actor=user)
    db.session.commit()
    community = account.community
    instance = runtime.start(
        "quarterly_disbursement", business_key=f"disbursement-{request.id}",
        title=f"{account.enterprise.name} · {community.name} · {year} 年第 {quarter} 季度拨付",
        data={"request_id": request.id, "payable": str(request.payable), "balance": str(current),
              "floor": str(floor)}, actor=user, subject=request,
        orgs={"enterprise_id": account.enterprise_id, "community_id": community.id,
              "street_office_id": community.street_office_id, "bank_id": account.bank_id})
    request.instance_id = instance.id
    documents.generate("documents/disbursement_request.html",
                       f"{community.name}{year}年第{quarter}季度监管资金支付申请单", kind="disbursement_request",
                       instance_id=instance.id, actor=user, enterprise=account.enterprise, community=community,
                       account=account, request=request)
    db.session.commit()
    return request


@operator("escrow.decide", "记录拨付审批结论", params={"request_id": "申请编号", "decision": "结论", "comment": "意见"})
def decide(ctx, request_id: int, decision: str, comment: str = "") -> dict:
    """Approval creates the bank instruction for what is payable *now* (never more than
    requested, never below the floor); a rejection frees the quarter for a new request."""
    request = db.session.get(DisbursementRequest, request_id)
    account = request.escrow_account
    request.decided_at, request.comment = utcnow(), comment or ""
    if decision != "approve":
        request.status, request.active_key = "rejected", None
        audit.record("escrow.reject", request, after={"comment": comment})
        return {"approved": False}
    amount = min(request.payable, payable_now(account))
    if amount <= 0:
        request.status, request.active_key = "rejected", None
        request.comment = (comment + " " + _("余额已不足，无法拨付。")).strip()
        return {"approved": False}
    request.status = "approved"
    instruction = BankInstruction(
        reference=f"WY-D{request.id:08d}", escrow_account_id=account.id, bank_id=account.bank_id, kind="disbursement",
        amount=amount, to_account=account.payee_account_no, to_name=account.payee_name, request_id=request.id,
        instance_id=ctx.instance_id, purpose=f"{request.year}年第{request.quarter}季度物业服务费监管资金拨付")
    db.session.add(instruction)
    db.session.flush()
    instruction.pdf_attachment_id = documents.generate(
        "documents/bank_instruction.html", f"监管资金支付申请单（银行）{instruction.reference}", kind="bank_instruction",
        instance_id=ctx.instance_id, enterprise=account.enterprise, community=account.community, bank=account.bank,
        account=account, instruction=instruction, remaining=balance(account.id)).id
    audit.record("escrow.approve", request, after={"amount": amount, "reference": instruction.reference})
    return {"approved": True, "instruction_id": instruction.id, "amount": str(amount)}


class InstructionPending(Exception):
    """The bank accepted the instruction but has not finished it: poll again later."""


@operator("escrow.send_instruction", "向托管银行发送支付指令", params={"instruction_id": "指令编号"}, external=True,
          max_attempts=6)
def send_instruction(ctx, instruction_id: int) -> dict:
    """Send (or re-send: the reference makes it idempotent) and return the final status.
    Time-outs and 5xx are unknown outcomes: raise so the job retries with the same reference."""
    instruction = db.session.get(BankInstruction, instruction_id)
    if instruction.status in ("success", "failed", "returned"):
        return {"status": instruction.status}
    account = instruction.escrow_account
    client = client_from_config(current_app.config)
    try:
        result = client.send_instruction(instruction.reference, account.account_no, instruction.to_account,
                                         instruction.to_name, instruction.amount, instruction.purpose)
    except BankRejected as e:
        return {"status": "failed", "error": e.code}
    instruction.bank_ref = result.get("bank_ref")
    instruction.status = "processing" if result["status"] == "processing" else instruction.status
    db.session.commit()
    if result["status"] == "processing":
        raise InstructionPending(instruction.reference)
    return {"status": result["status"], "serial": result.get("serial"), "error": result.get("reason", "")}


@operator("escrow.settle_instruction", "记录支付结果并记账",
          params={"instruction_id": "指令编号", "status": "结果", "serial": "银行流水号"})
def settle_operator(ctx, instruction_id: int, status: str, serial: str | None = None) -> dict:
    instruction = db.session.get(BankInstruction, instruction_id)
    settle_instruction(instruction.reference, status, serial=serial)
    return {"status": instruction.status}


def settle_instruction(reference: str, status: str, *, serial: str | None = None, bank_ref: str | None = None) -> None:
    """Apply a final bank result once, whichever arrives first (the case's poll or the
    bank's signed notification). Success posts the ledger; the reference is unique there."""
    instruction = db.session.scalar(db.select(BankInstruction).where(BankInstruction.reference == reference))
    if instruction is None:
        raise NotFound(_("支付指令不存在。"))
    if instruction.status in ("success", "failed", "returned"):
        return
    instruction.status, instruction.settled_at = status, utcnow()
    instruction.bank_ref = bank_ref or instruction.bank_ref
    request = db.session.get(DisbursementRequest, instruction.request_id) if instruction.request_id else None
    if status == "success":
        book = "enterprise" if instruction.kind in ("disbursement", "year_end_release") else instruction.kind[4:]
        _post(instruction.escrow_account_id, instruction.kind, instruction.amount,
              [("bank", -instruction.amount), (book, instruction.amount)], memo=instruction.purpose,
              bank_serial=serial, instruction_reference=instruction.reference)
        if request is not None:
            request.status = "paid"
    elif request is not None:
        request.status, request.active_key = "failed", None
    audit.record("escrow.instruction_settled", instruction, after={"status": status, "amount": instruction.amount})


def reconcile(account: EscrowAccount) -> Decimal:
    """Ledger vs bank balance; a difference opens a case for the housing center."""
    bank_balance = Decimal(client_from_config(current_app.config).balance(account.account_no)["balance"])
    difference = bank_balance - balance(account.id)
    if difference != 0:
        key = f"reconcile-{account.id}"
        open_case = db.session.scalar(db.select(runtime.ProcessInstance.id).where(
            runtime.ProcessInstance.business_key == key,
            runtime.ProcessInstance.status.in_(("running", "waiting", "error"))))
        if open_case is None:
            runtime.start("escrow_reconciliation", business_key=key,
                          title=f"{account.community.name} 监管账户对账差异 {difference} 元",
                          data={"account_id": account.id, "difference": str(difference),
                                "bank_balance": str(bank_balance)},
                          subject=account, orgs={"enterprise_id": account.enterprise_id,
                                                 "community_id": account.community_id, "bank_id": account.bank_id})
    return difference


def visible_accounts(user):
    """Accounts a user may see: supervisors all, an enterprise or bank its own, a street
    office its communities'."""
    from app.permissions import reads_all
    query = db.select(EscrowAccount)
    if reads_all(user):
        return query
    if user.enterprise_id:
        return query.where(EscrowAccount.enterprise_id == user.enterprise_id)
    if user.bank_id:
        return query.where(EscrowAccount.bank_id == user.bank_id)
    if user.street_office_id:
        return query.join(Community).where(Community.street_office_id == user.street_office_id)
    if user.owners_committee:
        return query.where(EscrowAccount.community_id == user.owners_committee.community_id)
    return query.where(db.false())


def get_account_for(user, account_id: int) -> EscrowAccount:
    account = db.session.scalar(visible_accounts(user).where(EscrowAccount.id == account_id))
    if account is None:
        raise NotFound(_("监管账户不存在。"))
    return account


def may_see_full_account_no(user, account: EscrowAccount) -> bool:
    return user.has_role("housing_center", "admin") or user.bank_id == account.bank_id or \
        user.enterprise_id == account.enterprise_id




def year_end_split(supervised: Decimal, score: Decimal) -> tuple[Decimal, Decimal]:
    """(release, cut) at year end (agreement art. 5.2): score ≥ 100 releases everything;
    below 100 the funds are cut by (100 − score) %, rounded half up to the fen, and the
    rest released. Score 80 on 50 000.00 → cut 10 000.00, release 40 000.00."""
    if score >= 100:
        return supervised, Decimal("0.00")
    cut = to_fen(supervised * (Decimal(100) - Decimal(score)) / Decimal(100))
    return supervised - cut, cut


# ---------------------------------------------------------------- year-end settlement

def start_year_end(account_id: int, year: int, score, actor=None):
    """Open the year-end settlement of one supervised account with its final score."""
    account = db.session.get(EscrowAccount, account_id)
    if account is None:
        raise NotFound(_("监管账户不存在。"))
    score = Decimal(str(score))
    if score < 0:
        raise ValidationFailed(_("考评得分不能为负。"), {"score": _("考评得分不能为负。")})
    community = account.community
    return runtime.start(
        "year_end_settlement", business_key=f"year-end-{account.id}-{year}",
        title=f"{account.enterprise.name} · {community.name} · {year} 年度监管资金结算（得分 {score}）",
        data={"account_id": account.id, "year": year, "score": str(score)}, actor=actor, subject=account,
        orgs={"enterprise_id": account.enterprise_id, "community_id": community.id,
              "street_office_id": community.street_office_id, "bank_id": account.bank_id})


def _instruction(account: EscrowAccount, kind: str, reference: str, amount: Decimal, to_account: str, to_name: str,
                 purpose: str, instance_id: int) -> BankInstruction:
    existing = db.session.scalar(db.select(BankInstruction).where(BankInstruction.reference == reference))
    if existing is not None:
        return existing
    instruction = BankInstruction(reference=reference, escrow_account_id=account.id, bank_id=account.bank_id, kind=kind,
                                  amount=amount, to_account=to_account, to_name=to_name, purpose=purpose,
                                  instance_id=instance_id)
    db.session.add(instruction)
    db.session.flush()
    return instruction


@operator("escrow.prepare_year_end", "计算年终拨付与扣减",
          params={"account_id": "监管账户", "year": "年度", "score": "考评得分"})
def prepare_year_end(ctx, account_id: int, year: int, score: str) -> dict:
    """Release or cut by the score (agreement art. 5.2) on the whole supervised balance."""
    account = db.session.get(EscrowAccount, account_id)
    supervised = balance(account.id)
    release, cut = year_end_split(supervised, Decimal(score))
    result = {"supervised": str(supervised), "release": str(release), "cut": str(cut), "release_instruction_id": None}
    if release > 0:
        result["release_instruction_id"] = _instruction(
            account, "year_end_release", f"WY-Y{year}-{account.id:06d}-R", release, account.payee_account_no,
            account.payee_name, f"{year}年度监管资金年终拨付（考评得分{score}）", ctx.instance_id).id
    audit.record("escrow.year_end_prepared", account, after=result)
    return result


@operator("escrow.cut_instruction", "生成扣减资金划转指令",
          params={"account_id": "监管账户", "year": "年度", "amount": "扣减金额", "destination": "用途",
                  "to_account": "收款账号", "to_name": "收款户名"})
def cut_instruction(ctx, account_id: int, year: int, amount: str, destination: str, to_account: str = "",
                    to_name: str = "") -> dict:
    """The owners' committee decided where the cut goes: the community's infrastructure
    (an account it names) or the city's maintenance-fund pooling account."""
    account = db.session.get(EscrowAccount, account_id)
    if destination == "maintenance_fund":
        to_account = current_app.config["MAINTENANCE_FUND_ACCOUNT"]
        to_name = current_app.config["MAINTENANCE_FUND_NAME"]
        purpose = f"{year}年度考评扣减资金存入维修资金统筹账户"
    else:
        purpose = f"{year}年度考评扣减资金用于小区基础建设"
    instruction = _instruction(account, f"cut_{destination}", f"WY-Y{year}-{account.id:06d}-C", Decimal(amount),
                               to_account, to_name, purpose, ctx.instance_id)
    return {"instruction_id": instruction.id}
