"""Escrow of property fees: the bond floor, balances from the ledger, posting bank
transactions exactly once, quarterly disbursement requests, bank instructions from send to
final result, reconciliation and the year-end settlement. docs/escrow.md tells the rules.

Policy 三(五) and the four-party agreement, art. 5: the balance must stay at or above 5 %
of the community's annual receivable fee (the bond floor); in Q1–Q3 the enterprise may
request, once a quarter, the part above the floor; below the floor nothing is paid. The
housing center acts within 5 working days and sends the bank a payment instruction.
"""
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.engine import runtime
from app.engine.calendar import now
from app.engine.registry import assigner, message, operator
from app.extensions import db, insert_or_skip
from app.integrations.bank import BankRejected, BankUnavailable, client_from_config
from app.models import (BankInstruction, CenterHead, Community, DisbursementRequest, EscrowAccount, EscrowAgreement,
                        LedgerEntry, LedgerTxn, MessageSubscription, ProcessInstance, User)
from app.models.base import utcnow
from app.services import audit, documents
from app.services.cases import summary
from app.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.validators import is_valid_bank_account

SHANGHAI = ZoneInfo("Asia/Shanghai")
FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")
FINAL_STATUSES = ("success", "failed", "returned")
PENDING_STATUSES = ("accepted", "processing", "awaiting_approval", "sent", "unknown")
BANK_RESULT_MESSAGE = "escrow.bank_result"
BOND_MARK = "保证金"  # in the memo of the enterprise's own payment: a bond top-up (agreement art. 4.2)
RECONCILE_LIST_LIMIT = 20

message(BANK_RESULT_MESSAGE, "托管银行通知支付指令结果")

FAILURE_REASONS = {
    "insufficient_funds": _l("监管账户余额不足"), "returned": _l("收款行退票"), "account_closed": _l("收款账户已销户"),
    "reference_reused": _l("业务参考号已用于另一笔指令"), "unknown_account": _l("银行找不到付款账户"),
}


def failure_reason(code: str | None) -> str:
    return str(FAILURE_REASONS.get(code or "", code or _("银行未说明原因")))


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


def check_bank_transaction(tx) -> dict:
    """A bank transaction (statement line or notification) as it may be booked: a serial, a
    direction and a positive amount to the fen; else ValidationFailed naming each bad field.
    Nothing the bank sends is booked unchecked."""
    if not isinstance(tx, dict):
        raise ValidationFailed(_("银行交易数据有误，未入账。"), {"transaction": _("须为 JSON 对象。")})
    errors = {}
    serial = tx.get("serial")
    if not isinstance(serial, str) or not serial.strip() or len(serial) > 64:
        errors["serial"] = _("银行流水号缺失或无效。")
    if tx.get("direction") not in ("credit", "debit"):
        errors["direction"] = _("收支方向须为 credit（收入）或 debit（支出）。")
    try:
        amount = parse_amount(tx.get("amount"))
    except ValidationFailed as e:
        errors.update(e.fields)
    if errors:
        raise ValidationFailed(_("银行交易数据有误，未入账。"), errors)
    return {"serial": serial.strip(), "direction": tx["direction"], "amount": amount,
            "counterparty": str(tx.get("counterparty") or "")[:100], "memo": str(tx.get("memo") or "")[:190],
            "reference": str(tx.get("reference") or "")}


# ---------------------------------------------------------------- balances

def balance(account_id: int) -> Decimal:
    total = db.session.scalar(db.select(db.func.coalesce(db.func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.escrow_account_id == account_id, LedgerEntry.book == "bank"))
    return to_fen(Decimal(total))


def bond_paid(account_id: int) -> Decimal:
    """What the enterprise paid in itself as bond (the `bond` book is credited by top-ups)."""
    total = db.session.scalar(db.select(db.func.coalesce(db.func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.escrow_account_id == account_id, LedgerEntry.book == "bond"))
    return to_fen(-Decimal(total))


def bond_floor(account: EscrowAccount) -> Decimal:
    """5 % (the agreement's rate) of the community's annual receivable fee."""
    return to_fen(account.community.annual_receivable_fee * account.agreement.bond_rate)


def payable_now(account: EscrowAccount) -> Decimal:
    """The balance above the floor, whatever paid it in (owners or the enterprise's bond):
    the floor is what stays; below it nothing is payable."""
    return max(Decimal("0.00"), balance(account.id) - bond_floor(account))


def bond_shortfall(account: EscrowAccount) -> Decimal:
    """How much the enterprise must top up for the balance to reach the floor."""
    return max(Decimal("0.00"), bond_floor(account) - balance(account.id))


def _post(account_id: int, kind: str, amount: Decimal, entries: list[tuple[str, Decimal]], *, memo="",
          bank_serial=None, instruction_reference=None) -> LedgerTxn:
    assert sum(a for _, a in entries) == 0, "a ledger transaction must balance"
    txn = LedgerTxn(escrow_account_id=account_id, kind=kind, amount=amount, memo=memo[:300], bank_serial=bank_serial,
                    instruction_reference=instruction_reference)
    txn.entries = [LedgerEntry(escrow_account_id=account_id, book=book, amount=value) for book, value in entries]
    db.session.add(txn)
    db.session.flush()
    return txn


def _receipt(account: EscrowAccount, tx: dict) -> tuple[str, str]:
    """(kind, book) of money coming in. The enterprise's own payment is a bond top-up when
    its memo says 保证金, else offline fees it collected; anyone else's is an owner payment."""
    if tx["counterparty"] == account.enterprise.name:
        return ("bond_topup", "bond") if BOND_MARK in tx["memo"] else ("offline_deposit", "owners")
    return "owner_payment", "owners"


def _memo(tx: dict) -> str:
    return f"{tx['counterparty']} {tx['memo']}".strip()


def post_bank_transaction(account: EscrowAccount, tx) -> bool:
    """Post a transaction from the bank's notification exactly once (keyed on the bank
    serial); True if it was posted now. Credits are owner payments, offline deposits or bond
    top-ups; debits are our own instructions, booked when they settle. Bad data raises
    ValidationFailed. The serial is claimed by one INSERT … ON CONFLICT DO NOTHING: a
    serial booked before is skipped, and one that the statement pull is booking at this
    moment waits for the pull to commit (then is skipped) or to roll back (then is posted)."""
    tx = check_bank_transaction(tx)
    if tx["direction"] != "credit":
        return False  # our debits are booked at settlement; an unknown debit shows in reconciliation
    kind, book = _receipt(account, tx)
    table = LedgerTxn.__table__
    txn_id = db.session.scalar(insert_or_skip(table, ["escrow_account_id", "bank_serial"]).values(
        escrow_account_id=account.id, kind=kind, amount=tx["amount"], memo=_memo(tx)[:300],
        bank_serial=tx["serial"]).returning(table.c.id))
    if txn_id is None:
        return False
    db.session.execute(db.insert(LedgerEntry), _receipt_entries(txn_id, account.id, tx["amount"], book))
    return True


def _receipt_entries(txn_id: int, account_id: int, amount: Decimal, book: str) -> list[dict]:
    """The two entries of money coming in: into the bank book, out of `book` (they balance)."""
    return [{"txn_id": txn_id, "escrow_account_id": account_id, "book": "bank", "amount": amount},
            {"txn_id": txn_id, "escrow_account_id": account_id, "book": book, "amount": -amount}]


def post_statement_page(account: EscrowAccount, transactions: list[dict]) -> int:
    """Post a page of checked bank transactions in bulk: serials already in the ledger are
    skipped, and the (account, serial) unique constraint refuses any that a notification
    booked at the same moment (the page is then read again)."""
    credits = list({tx["serial"]: tx for tx in transactions if tx["direction"] == "credit"}.values())
    if not credits:
        return 0
    for _attempt in range(3):
        seen = set(db.session.scalars(db.select(LedgerTxn.bank_serial).where(
            LedgerTxn.escrow_account_id == account.id, LedgerTxn.bank_serial.in_([tx["serial"] for tx in credits]))))
        new = [tx for tx in credits if tx["serial"] not in seen]
        if not new:
            return 0
        rows, books = [], []
        for tx in new:
            kind, book = _receipt(account, tx)
            rows.append({"escrow_account_id": account.id, "amount": tx["amount"], "bank_serial": tx["serial"],
                         "kind": kind, "memo": _memo(tx)[:300], "booked_at": utcnow()})
            books.append(book)
        try:
            with db.session.begin_nested():
                ids = db.session.scalars(db.insert(LedgerTxn).returning(LedgerTxn.id, sort_by_parameter_order=True),
                                         rows).all()
                db.session.execute(db.insert(LedgerEntry), [
                    entry for txn_id, row, book in zip(ids, rows, books)
                    for entry in _receipt_entries(txn_id, account.id, row["amount"], book)])
            return len(new)
        except IntegrityError:
            continue
    raise Conflict(_("银行流水入账冲突，请稍后重试。"))


def pull_statement(account: EscrowAccount) -> int:
    """Fetch the bank statement since the stored cursor and post what is new, a page per
    request (memory stays flat however long the statement). A malformed line is neither
    booked nor skipped: the pull stops before it, the cursor stays at its page (lines
    booked before it are skipped by serial next time) and the housing center gets a case."""
    client = client_from_config(current_app.config)
    posted = 0
    while True:
        page = client.statement(account.account_no, cursor=account.statement_cursor)
        checked = []
        for tx in page["transactions"]:
            try:
                checked.append(check_bank_transaction(tx))
            except ValidationFailed as e:
                posted += post_statement_page(account, checked)
                _statement_refused(account, tx, e)
                return posted
        posted += post_statement_page(account, checked)
        account.statement_cursor = page["cursor"]
        db.session.commit()
        if not page.get("more"):
            return posted


def _statement_refused(account: EscrowAccount, tx, error: ValidationFailed) -> None:
    serial = str(tx.get("serial") if isinstance(tx, dict) else "")[:64] or "?"
    problems = "；".join(error.fields.values())
    audit.record("escrow.statement_refused", account, after={"serial": serial, "fields": error.fields,
                                                             "transaction": json.dumps(tx, ensure_ascii=False)[:1000]})
    _open_case(account, f"statement-{account.id}",
               f"{account.community.name} 银行流水 {serial} 数据有误（{problems}），入账已暂停",
               {"problem": "statement", "serial": serial, "fields": error.fields,
                "transaction": json.dumps(tx, ensure_ascii=False)[:1000]})


def ledger_balances() -> dict[int, Decimal]:
    """Every account's bank-book balance in one query (for reconciling them all)."""
    rows = db.session.execute(db.select(LedgerEntry.escrow_account_id, db.func.sum(LedgerEntry.amount))
                              .where(LedgerEntry.book == "bank").group_by(LedgerEntry.escrow_account_id))
    return {account_id: to_fen(Decimal(total)) for account_id, total in rows}


def receive_notification(body) -> str:
    """A signed notification from the bank (the caller verified the signature): an
    incoming transaction is posted once; an instruction's final result settles it and wakes
    its case. Bad data raises ValidationFailed and changes nothing (the nonce included)."""
    if not isinstance(body, dict):
        raise ValidationFailed(_("请求体须为 JSON 对象。"), {"body": _("请求体须为 JSON 对象。")})
    if body.get("type") == "transaction":
        check_bank_transaction(body)
        account = db.session.scalar(db.select(EscrowAccount).where(EscrowAccount.account_no == body.get("account_no"))
                                    .options(joinedload(EscrowAccount.enterprise)))  # its name tells a receipt's kind
        posted = post_bank_transaction(account, body) if account else False
        db.session.commit()
        return "posted" if posted else "ignored"
    if body.get("type") == "instruction":
        errors = {}
        if not isinstance(body.get("reference"), str) or not body["reference"].strip():
            errors["reference"] = _("缺少指令业务参考号。")
        if body.get("status") not in FINAL_STATUSES + PENDING_STATUSES:
            errors["status"] = _("未知的指令状态。")
        if errors:
            raise ValidationFailed(_("银行通知数据有误。"), errors)
        if body["status"] not in FINAL_STATUSES:
            db.session.commit()
            return "ignored"
        instruction = settle_instruction(body["reference"], body["status"], serial=body.get("serial"),
                                         bank_ref=body.get("bank_ref"), reason=body.get("reason") or "")
        db.session.commit()
        _wake_case(instruction)
        return "recorded"
    db.session.commit()  # keep the nonce: the same request must not be accepted again
    return "ignored"


def _wake_case(instruction: BankInstruction) -> None:
    """Tell the case waiting for this instruction's result (else its next poll finds it)."""
    instance = db.session.get(ProcessInstance, instruction.instance_id) if instruction.instance_id else None
    if instance is None or not db.session.scalar(db.select(MessageSubscription.id).where(
            MessageSubscription.instance_id == instance.id, MessageSubscription.message_name == BANK_RESULT_MESSAGE)):
        return
    try:
        runtime.deliver_message(BANK_RESULT_MESSAGE, instance.business_key, {"reference": instruction.reference},
                                message_id=f"bank-result-{instruction.reference}")
    except ServiceError:
        db.session.rollback()  # the case moved meanwhile: its next poll reads the result


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
    today = now().astimezone(SHANGHAI).date()
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
    today = today or now().astimezone(SHANGHAI).date()
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


def _instruction_pdf(instruction: BankInstruction, instance_id: int) -> None:
    """Attachment 2, second form: the center's payment instruction to the bank."""
    account = instruction.escrow_account
    instruction.pdf_attachment_id = documents.generate(
        "documents/bank_instruction.html", f"监管资金支付申请单（银行）{instruction.reference}", kind="bank_instruction",
        instance_id=instance_id, enterprise=account.enterprise, community=account.community, bank=account.bank,
        account=account, instruction=instruction, remaining=balance(account.id)).id


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
    _instruction_pdf(instruction, ctx.instance_id)
    audit.record("escrow.approve", request, after={"amount": amount, "reference": instruction.reference})
    return {"approved": True, "instruction_id": instruction.id, "amount": str(amount)}


# ---------------------------------------------------------------- bank instructions: send, poll, settle, reissue

def _result(status: str, answer: dict | None = None) -> dict:
    """What the case keeps of the bank's answer: final, or "processing" (poll again)."""
    answer = answer or {}
    return {"status": status if status in FINAL_STATUSES else "processing", "bank_status": status,
            "serial": answer.get("serial"), "error": answer.get("reason") or ""}


@operator("escrow.send_instruction", "向托管银行发送支付指令", params={"instruction_id": "指令编号"}, external=True,
          max_attempts=6)
def send_instruction(ctx, instruction_id: int) -> dict:
    """Send the instruction once (a retry after a time-out or 5xx sends the same reference,
    which the bank executes at most once) and return what the bank says: final, or
    processing (then the case polls). A 4xx refusal means it was not executed: failed."""
    instruction = db.session.get(BankInstruction, instruction_id)
    if instruction.status in FINAL_STATUSES:
        return {"status": instruction.status, "bank_status": instruction.status, "serial": None, "error": ""}
    account = instruction.escrow_account
    client = client_from_config(current_app.config)
    try:
        answer = client.send_instruction(instruction.reference, account.account_no, instruction.to_account,
                                         instruction.to_name, instruction.amount, instruction.purpose)
    except BankRejected as e:
        return {"status": "failed", "bank_status": "refused", "serial": None, "error": e.code}
    instruction.bank_ref = answer.get("bank_ref") or instruction.bank_ref
    if instruction.status == "created":
        instruction.status = "processing"
    db.session.commit()
    return _result(str(answer.get("status")), answer)


@operator("escrow.poll_instruction", "向托管银行查询支付指令状态", params={"instruction_id": "指令编号"},
          external=True, max_attempts=6)
def poll_instruction(ctx, instruction_id: int) -> dict:
    """Ask the bank for the status of a sent instruction (never send it again). A result
    the bank's notification recorded already is taken as it is; "unknown" or a reference
    the bank does not find (yet) is polled again at the next round."""
    instruction = db.session.get(BankInstruction, instruction_id)
    if instruction.status in FINAL_STATUSES:
        return {"status": instruction.status, "bank_status": instruction.status, "serial": None, "error": ""}
    try:
        answer = client_from_config(current_app.config).instruction_status(instruction.reference)
    except BankRejected as e:
        if e.code != "unknown_reference":
            raise
        return _result("unknown")
    return _result(str(answer.get("status")), answer)


@operator("escrow.settle_instruction", "记录支付结果并记账",
          params={"instruction_id": "指令编号", "status": "结果", "serial": "银行流水号", "reason": "失败原因"})
def settle_operator(ctx, instruction_id: int, status: str, serial: str | None = None, reason: str = "") -> dict:
    instruction = db.session.get(BankInstruction, instruction_id)
    settle_instruction(instruction.reference, status, serial=serial, reason=reason)
    return {"status": instruction.status, "reason": instruction.last_error or ""}


def settle_instruction(reference: str, status: str, *, serial: str | None = None, bank_ref: str | None = None,
                       reason: str = "") -> BankInstruction:
    """Apply a final bank result once, whichever arrives first (the case's poll or the
    bank's signed notification): the row is locked, and success posts the ledger under the
    instruction's unique reference. A failure leaves the ledger alone and keeps the quarter
    taken until the center decides again."""
    query = db.select(BankInstruction).where(BankInstruction.reference == reference).execution_options(
        populate_existing=True)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update()
    instruction = db.session.scalar(query)
    if instruction is None:
        raise NotFound(_("支付指令不存在。"))
    if instruction.status in FINAL_STATUSES or status not in FINAL_STATUSES:
        return instruction
    instruction.status, instruction.settled_at = status, utcnow()
    instruction.bank_ref = bank_ref or instruction.bank_ref
    request = db.session.get(DisbursementRequest, instruction.request_id) if instruction.request_id else None
    if status == "success":
        book = "enterprise" if instruction.kind in ("disbursement", "year_end_release") else instruction.kind[4:]
        try:
            with db.session.begin_nested():
                _post(instruction.escrow_account_id, instruction.kind, instruction.amount,
                      [("bank", -instruction.amount), (book, instruction.amount)], memo=instruction.purpose,
                      bank_serial=serial or None, instruction_reference=instruction.reference)
        except IntegrityError:
            pass  # booked by the other path at this moment (SQLite has no row lock)
        if request is not None:
            request.status = "paid"
    else:
        instruction.last_error = reason or ("returned" if status == "returned" else "")
        if request is not None:
            request.status = "failed"
    audit.record("escrow.instruction_settled", instruction, after={"status": status, "amount": instruction.amount,
                                                                   "reason": instruction.last_error or ""})
    return instruction


@operator("escrow.reissue_instruction", "重新决定失败的支付指令",
          params={"instruction_id": "指令编号", "decision": "结论", "comment": "意见"})
def reissue_instruction(ctx, instruction_id: int, decision: str, comment: str = "") -> dict:
    """After a final failure (the bank will never execute that reference) the center sends
    a new instruction under a new reference, or gives up. Refused while any instruction of
    the same case and kind is live or paid: one payment per purpose, never two."""
    failed = db.session.get(BankInstruction, instruction_id)
    siblings = db.session.scalars(db.select(BankInstruction).where(
        BankInstruction.instance_id == failed.instance_id, BankInstruction.kind == failed.kind)
        .order_by(BankInstruction.id)).all()
    if any(s.status not in ("failed", "returned") for s in siblings):
        raise Conflict(_("该笔资金已有有效的支付指令，不能重新发出。"))
    request = db.session.get(DisbursementRequest, failed.request_id) if failed.request_id else None
    amount = failed.amount
    if request is not None and decision == "reissue":
        amount = min(request.payable, payable_now(failed.escrow_account))
    if decision != "reissue" or amount <= 0:
        if request is not None:
            request.status, request.active_key, request.decided_at = "rejected", None, utcnow()
            request.comment = (comment or "") if amount > 0 else ((comment or "") + " " + _("余额已不足，无法拨付。")).strip()
        audit.record("escrow.instruction_abandoned", failed, after={"comment": comment})
        return {"approved": False, "instruction_id": failed.id}
    instruction = BankInstruction(
        reference=f"{siblings[0].reference}-{len(siblings) + 1}", escrow_account_id=failed.escrow_account_id,
        bank_id=failed.bank_id, kind=failed.kind, amount=amount, to_account=failed.to_account, to_name=failed.to_name,
        purpose=failed.purpose, request_id=failed.request_id, instance_id=ctx.instance_id)
    db.session.add(instruction)
    db.session.flush()
    if request is not None:
        request.status = "approved"
        _instruction_pdf(instruction, ctx.instance_id)
    audit.record("escrow.instruction_reissued", instruction, after={"replaces": failed.reference, "amount": amount,
                                                                    "comment": comment})
    return {"approved": True, "instruction_id": instruction.id, "amount": str(amount)}


def last_failed_instruction(instance_id: int) -> BankInstruction | None:
    return db.session.scalar(db.select(BankInstruction).where(
        BankInstruction.instance_id == instance_id, BankInstruction.status.in_(("failed", "returned")))
        .order_by(BankInstruction.id.desc()).limit(1))


# ---------------------------------------------------------------- reconciliation

@dataclass
class Reconciliation:
    difference: Decimal  # bank balance − ledger balance
    bank_balance: Decimal
    unbooked: list[dict] = field(default_factory=list)  # bank lines the ledger lacks
    not_at_bank: list[str] = field(default_factory=list)  # booked serials/references the bank lacks

    @property
    def ok(self) -> bool:
        return self.difference == 0 and not self.unbooked and not self.not_at_bank


def _compare_statement(account: EscrowAccount, client) -> tuple[list[dict], list[str]]:
    """Walk the whole statement a page at a time: every bank line must be booked (credits by
    serial, our debits by serial or instruction reference), and every booked transaction
    must be on the statement."""
    unbooked, serials, references, cursor = [], set(), set(), 0
    while True:
        page = client.statement(account.account_no, cursor=cursor)
        lines = page["transactions"]
        keys = [str(t.get("serial")) for t in lines]
        refs = [str(t.get("reference")) for t in lines if t.get("reference")]
        booked = set(db.session.scalars(db.select(LedgerTxn.bank_serial).where(
            LedgerTxn.escrow_account_id == account.id, LedgerTxn.bank_serial.in_(keys))))
        booked_refs = set(db.session.scalars(db.select(LedgerTxn.instruction_reference).where(
            LedgerTxn.escrow_account_id == account.id, LedgerTxn.instruction_reference.in_(refs)))) if refs else set()
        for line in lines:
            serials.add(str(line.get("serial")))
            if line.get("reference"):
                references.add(str(line["reference"]))
            if str(line.get("serial")) not in booked and not (line.get("direction") == "debit"
                                                                and line.get("reference") in booked_refs):
                unbooked.append({k: line.get(k) for k in ("serial", "direction", "amount", "counterparty")})
        cursor = page["cursor"]
        if not page.get("more"):
            break
    not_at_bank = []
    for txn_id, serial, reference in db.session.execute(
            db.select(LedgerTxn.id, LedgerTxn.bank_serial, LedgerTxn.instruction_reference)
            .where(LedgerTxn.escrow_account_id == account.id).order_by(LedgerTxn.id)).yield_per(1000):
        if serial not in serials and (reference is None or reference not in references):
            not_at_bank.append(serial or reference or f"#{txn_id}")
    return unbooked, not_at_bank


def reconcile(account: EscrowAccount) -> Reconciliation:
    """Ledger vs bank: the balance, and the statement line by line. Any difference opens
    (once while it is open) a case for the housing center."""
    client = client_from_config(current_app.config)
    bank_balance = Decimal(client.balance(account.account_no)["balance"])
    unbooked, not_at_bank = _compare_statement(account, client)
    result = Reconciliation(bank_balance - balance(account.id), bank_balance, unbooked, not_at_bank)
    if not result.ok:
        _open_case(account, f"reconcile-{account.id}",
                   f"{account.community.name} 监管账户对账差异 {result.difference} 元"
                   f"（银行流水未入账 {len(unbooked)} 笔，台账有而银行无 {len(not_at_bank)} 笔）",
                   {"problem": "reconciliation", "difference": str(result.difference),
                    "bank_balance": str(bank_balance), "unbooked": unbooked[:RECONCILE_LIST_LIMIT],
                    "not_at_bank": not_at_bank[:RECONCILE_LIST_LIMIT]})
    return result


def difference_lines(instance_id: int) -> list[str]:
    """The differences a reconciliation case was opened for, as lines to read."""
    from app.models import InstanceEvent
    data = db.session.scalar(db.select(InstanceEvent.data).where(InstanceEvent.instance_id == instance_id,
                                                                 InstanceEvent.kind == "started")) or {}
    lines = []
    if data.get("problem") == "statement":
        lines.append(_("银行流水 %(serial)s 数据有误：%(fields)s", serial=data.get("serial"),
                       fields="，".join((data.get("fields") or {}).values())))
    for line in data.get("unbooked") or []:
        lines.append(_("未入账的银行流水 %(serial)s（%(direction)s %(amount)s）", serial=line.get("serial"),
                       direction=_("收入") if line.get("direction") == "credit" else _("支出"),
                       amount=line.get("amount")))
    for key in data.get("not_at_bank") or []:
        lines.append(_("台账有而银行流水中没有：%(key)s", key=key))
    return lines


def _open_case(account: EscrowAccount, key: str, title: str, data: dict) -> None:
    """A case for the housing center about this account, unless one is open for `key`."""
    open_case = db.session.scalar(db.select(ProcessInstance.id).where(
        ProcessInstance.business_key == key, ProcessInstance.status.in_(("running", "waiting", "error"))))
    if open_case is None:
        runtime.start("escrow_reconciliation", business_key=key, title=title[:300],
                      data={"account_id": account.id, **data}, subject=account,
                      orgs={"enterprise_id": account.enterprise_id, "community_id": account.community_id,
                            "bank_id": account.bank_id})
    db.session.commit()


# ---------------------------------------------------------------- who sees what

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


def ledger_query(account: EscrowAccount, kind: str | None = None, date_from: date | None = None,
                 date_to: date | None = None):
    """The account's ledger transactions, newest first, filtered by kind and by the local
    (Asia/Shanghai) booking dates from–to, both included."""
    query = db.select(LedgerTxn).where(LedgerTxn.escrow_account_id == account.id)
    if kind:
        query = query.where(LedgerTxn.kind == kind)
    if date_from:
        query = query.where(LedgerTxn.booked_at >= datetime.combine(date_from, time.min, SHANGHAI))
    if date_to:
        query = query.where(LedgerTxn.booked_at < datetime.combine(date_to + timedelta(days=1), time.min, SHANGHAI))
    return query.order_by(LedgerTxn.id.desc())


def balance_series(account: EscrowAccount) -> list[tuple[datetime, Decimal]]:
    """The balance after each transaction: the running sum of its bank-book entries."""
    running, points = Decimal("0.00"), []
    for booked_at, amount in db.session.execute(
            db.select(LedgerTxn.booked_at, LedgerEntry.amount).join(LedgerEntry, LedgerEntry.txn_id == LedgerTxn.id)
            .where(LedgerTxn.escrow_account_id == account.id, LedgerEntry.book == "bank").order_by(LedgerTxn.id)):
        running += amount
        points.append((booked_at, to_fen(running)))
    return points


# ---------------------------------------------------------------- year-end settlement

def year_end_split(supervised: Decimal, score: Decimal) -> tuple[Decimal, Decimal]:
    """(release, cut) at year end (agreement art. 5.2): score ≥ 100 releases everything;
    below 100 the funds are cut by (100 − score) %, rounded half up to the fen, and the
    rest released. Score 80 on 50 000.00 → cut 10 000.00, release 40 000.00."""
    if score >= 100:
        return supervised, Decimal("0.00")
    cut = to_fen(supervised * (Decimal(100) - Decimal(score)) / Decimal(100))
    return supervised - cut, cut


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
    result = {"supervised": str(supervised), "release": str(release), "cut": str(cut)}
    audit.record("escrow.year_end_prepared", account, after=result)
    return result


@operator("escrow.release_instruction", "生成年终拨付指令",
          params={"account_id": "监管账户", "year": "年度", "amount": "拨付金额", "score": "考评得分"})
def release_instruction(ctx, account_id: int, year: int, amount: str, score: str) -> dict:
    account = db.session.get(EscrowAccount, account_id)
    instruction = _instruction(account, "year_end_release", f"WY-Y{year}-{account.id:06d}-R", Decimal(amount),
                               account.payee_account_no, account.payee_name,
                               f"{year}年度监管资金年终拨付（考评得分{score}）", ctx.instance_id)
    return {"approved": True, "instruction_id": instruction.id}


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
    return {"approved": True, "instruction_id": instruction.id}


# ---------------------------------------------------------------- the head of the center

def register_center_head(user_id: int, actor=None) -> CenterHead:
    """Name the head (负责人) of the housing center; there is one, so this replaces the last."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or not user.has_role("housing_center"):
        raise ValidationFailed(_("负责人须为住保中心的在职用户。"), {"user_id": _("负责人须为住保中心的在职用户。")})
    previous = center_head()
    db.session.execute(db.delete(CenterHead))
    row = CenterHead(user_id=user.id)
    db.session.add(row)
    audit.record("escrow.center_head_registered", target_type="User", target_id=user.id,
                 before={"user_id": previous.id if previous else None}, after={"user_id": user.id}, actor=actor)
    db.session.commit()
    return row


def center_head() -> User | None:
    return db.session.scalar(db.select(User).join(CenterHead, CenterHead.user_id == User.id)
                             .where(User.active.is_(True)).limit(1))


def is_center_head(user) -> bool:
    return user is not None and db.session.get(CenterHead, user.id) is not None


@assigner("escrow.center_head", "住保中心负责人")
def center_head_assignee(_instance) -> int | None:
    """An overdue approval's escalation goes to the center's registered head alone (set at
    /escrow/heads); with no head registered, to the housing center's lane."""
    head = center_head()
    return head.id if head else None


# ---------------------------------------------------------------- case summaries

@summary("DisbursementRequest")
def _request_summary(subject_id):
    from app.web.labels import INSTRUCTION_STATUSES, REQUEST_STATUSES
    request = db.session.get(DisbursementRequest, subject_id)
    if request is None:
        return []
    account = request.escrow_account
    facts = [(_("小区"), account.community.name), (_("物业企业"), account.enterprise.name),
             (_("申请季度"), _("%(year)d 年第 %(q)d 季度", year=request.year, q=request.quarter)),
             (_("申请时余额（元）"), f"{request.balance:,.2f}"), (_("保证金下限（元）"), f"{request.floor:,.2f}"),
             (_("应拨付（元）"), f"{request.payable:,.2f}"),
             (_("申请状态"), str(REQUEST_STATUSES.get(request.status, request.status)))]
    for i in db.session.scalars(db.select(BankInstruction).where(BankInstruction.request_id == request.id)
                                .order_by(BankInstruction.id)):
        text = f"{i.amount:,.2f} · {INSTRUCTION_STATUSES.get(i.status, i.status)}"
        if i.status in ("failed", "returned"):
            text += f" · {failure_reason(i.last_error)}"
        facts.append((_("支付指令 %(reference)s", reference=i.reference), text))
    return facts
