"""Smart-community build plans (policy attachment 1, art. 六 and 七):

- the supplier draws up the plan for a community (devices and cost) — 丁方制定建设方案;
- the enterprise agrees to it (or not) — 乙、丁双方确定;
- the bank advances the build cost — 建设资金由丙方先行垫付; the repayment schedule follows;
- the enterprise repays; until it has repaid everything the devices belong to the bank, then
  to the enterprise — 偿还后，智能设备所有权属于乙方;
- within a year the enterprise may ask to end device use; if the bank agrees it removes the
  devices, and the enterprise stays under the housing center's supervision — 乙方不得因为终止
  智能设备建设、使用而退出甲方监督管理.

Money is Decimal throughout; instalments are equal to the fen, the last takes the remainder.
"""
import calendar as month_calendar
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.engine.calendar import now
from app.extensions import db
from app.models import Bank, BuildPlan, BuildPlanItem, Community, Device, Repayment, RepaymentPayment
from app.permissions import reads_all, register_scope, scoped
from app.services import audit, notify
from app.services.devices import KINDS, local_date, set_status
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.escrow import MAX_AMOUNT, parse_amount

FEN = Decimal("0.01")
STATUSES = {"proposed": _l("待物业企业确认"), "agreed": _l("企业已同意，待银行垫资"), "rejected": _l("企业不同意"),
            "advanced": _l("银行已垫资，还款中"), "termination_requested": _l("企业申请终止，待银行确认"),
            "repaid": _l("已还清，设备归企业所有"), "terminated": _l("已终止，设备已拆回")}
OPEN_STATUSES = ("agreed", "advanced", "termination_requested")


@register_scope(BuildPlan)
def _plan_scope(query, user):
    """Supervisors all; the enterprise, the supplier and the bank of the plan their own."""
    if reads_all(user):
        return query
    clauses = []
    if user.enterprise_id:
        clauses.append(BuildPlan.enterprise_id == user.enterprise_id)
    if user.device_supplier_id:
        clauses.append(BuildPlan.supplier_id == user.device_supplier_id)
    if user.bank_id:
        clauses.append(BuildPlan.bank_id == user.bank_id)
    return query.where(db.or_(*clauses) if clauses else db.false())


def visible_plans(user) -> list[BuildPlan]:
    return list(db.session.scalars(scoped(BuildPlan, user).order_by(BuildPlan.proposed_at.desc()).limit(500)))


def get_for(user, plan_id: int) -> BuildPlan:
    plan = db.session.scalar(scoped(BuildPlan, user).where(BuildPlan.id == plan_id))
    if plan is None:
        raise NotFound(_("建设方案不存在。"))
    return plan


def today() -> date:
    return local_date(now())


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def paid_total(plan: BuildPlan) -> Decimal:
    return sum((p.amount for p in plan.payments), Decimal("0.00"))


def outstanding(plan: BuildPlan) -> Decimal:
    if plan.status in ("proposed", "agreed", "rejected"):
        return Decimal("0.00")
    due = sum((r.amount for r in plan.repayments if r.status != "cancelled"), Decimal("0.00"))
    return due - sum((r.paid for r in plan.repayments if r.status != "cancelled"), Decimal("0.00"))


def termination_deadline(plan: BuildPlan) -> date | None:
    """The last day the enterprise may ask to end device use: a year after the bank's
    advance (or, before it, after the agreement)."""
    start = plan.advanced_on or (local_date(plan.agreed_at) if plan.agreed_at else None)
    return one_year_after(start) if start else None


def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value if value is not None else "").strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("金额须为数字。"), {field: _("金额须为数字。")})
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT or amount != amount.quantize(FEN):
        raise ValidationFailed(_("金额须大于 0，最多保留两位小数。"), {field: _("金额须大于 0，最多保留两位小数。")})
    return amount


# ---------------------------------------------------------------- the supplier's plan

def propose(user, data: dict) -> BuildPlan:
    if not user.device_supplier_id:
        raise Forbidden(_("只有设备供应商可以制定建设方案。"))
    errors = {}
    community = db.session.get(Community, int(data.get("community_id") or 0))
    if community is None or community.enterprise_id is None:
        errors["community_id"] = _("请选择由物业企业服务的小区。")
    if db.session.get(Bank, int(data.get("bank_id") or 0)) is None:
        errors["bank_id"] = _("请选择垫资银行。")
    title = (data.get("title") or "").strip()
    if not title:
        errors["title"] = _("请填写方案名称。")
    instalments = data.get("instalments")
    if not isinstance(instalments, int) or not 1 <= instalments <= 120:
        errors["instalments"] = _("还款期数须在 1 到 120 个月之间。")
    items, problems = [], []
    for n, row in enumerate(data.get("items") or [], start=1):
        if not any(row.get(k) not in (None, "") for k in ("kind", "quantity", "unit_price")):
            continue  # an empty line of the form
        if row.get("kind") not in KINDS:
            problems.append(_("第 %(n)d 行：请选择设备类型。", n=n))
        quantity = row.get("quantity")
        if not isinstance(quantity, int) or not 1 <= quantity <= 10000:
            problems.append(_("第 %(n)d 行：数量须在 1 到 10000 之间。", n=n))
        try:
            price = _money(row.get("unit_price"), "unit_price")
        except ValidationFailed:
            problems.append(_("第 %(n)d 行：单价须大于 0，最多保留两位小数。", n=n))
            price = None
        if not problems:
            items.append(BuildPlanItem(kind=row["kind"], model=(row.get("model") or "").strip()[:100],
                                       quantity=quantity, unit_price=price))
    if not items and not problems:
        problems.append(_("请至少填写一项设备。"))
    cost = sum((i.unit_price * i.quantity for i in items), Decimal("0.00"))
    if cost > MAX_AMOUNT:
        problems.append(_("建设费用过大。"))
    if problems:
        errors["items"] = "；".join(problems)
    if errors:
        raise ValidationFailed(_("建设方案填写有误。"), errors)
    plan = BuildPlan(community_id=community.id, enterprise_id=community.enterprise_id,
                     supplier_id=user.device_supplier_id, bank_id=int(data["bank_id"]), title=title[:200],
                     description=(data.get("description") or "").strip(), cost=cost, instalments=instalments,
                     proposed_by_id=user.id, items=items)
    db.session.add(plan)
    db.session.flush()
    audit.record("build_plan.proposed", plan, after={"community_id": community.id, "cost": cost,
                                                     "instalments": instalments}, actor=user)
    notify.notify_enterprise(plan.enterprise_id, "build_plan", _l("智慧小区建设方案待确认：%(title)s", title=plan.title),
                             _l("%(community)s，建设费用 %(cost)s 元，分 %(n)s 期偿还。", community=community.name,
                                cost=cost, n=instalments))
    db.session.commit()
    return plan


def _own(user, plan: BuildPlan, column: str, message: str) -> None:
    if getattr(user, column) is None or getattr(user, column) != getattr(plan, column):
        raise Forbidden(message)


def _expect(plan: BuildPlan, *statuses: str) -> None:
    if plan.status not in statuses:
        raise Conflict(_("建设方案当前状态为“%(status)s”，不能办理该事项。", status=STATUSES[plan.status]))


def decide(user, plan_id: int, data: dict) -> BuildPlan:
    """The enterprise agrees to the supplier's plan, or not."""
    plan = get_for(user, plan_id)
    _own(user, plan, "enterprise_id", _("只有该小区的物业企业可以确认建设方案。"))
    _expect(plan, "proposed")
    decision = data.get("decision")
    if decision not in ("agree", "reject"):
        raise ValidationFailed(_("请选择意见。"), {"decision": _("请选择意见。")})
    if decision == "reject" and not (data.get("note") or "").strip():
        raise ValidationFailed(_("不同意须说明理由。"), {"note": _("不同意须说明理由。")})
    plan.status = "agreed" if decision == "agree" else "rejected"
    plan.agreed_by_id, plan.agreed_at, plan.decision_note = user.id, now(), (data.get("note") or "").strip()
    audit.record("build_plan.decided", plan, after={"decision": decision}, actor=user)
    db.session.commit()
    return plan


def schedule(cost: Decimal, instalments: int, start: date) -> list[tuple[date, Decimal]]:
    """Monthly instalments from a month after `start`: equal to the fen, the last takes the rest."""
    part = (cost / instalments).quantize(FEN, rounding=ROUND_DOWN)
    amounts = [part] * (instalments - 1) + [cost - part * (instalments - 1)]
    return [(add_months(start, n), amount) for n, amount in enumerate(amounts, start=1)]


def advance(user, plan_id: int, data: dict) -> BuildPlan:
    """The bank pays the supplier the build cost; the devices are the bank's until repaid."""
    plan = get_for(user, plan_id)
    _own(user, plan, "bank_id", _("只有该方案的垫资银行可以登记垫资。"))
    _expect(plan, "agreed")
    errors = {}
    advanced_on = data.get("advanced_on")
    if not isinstance(advanced_on, date):
        errors["advanced_on"] = _("请填写垫付日期。")
    elif advanced_on > today():
        errors["advanced_on"] = _("垫付日期不能晚于今天。")
    elif plan.agreed_at and advanced_on < local_date(plan.agreed_at):
        errors["advanced_on"] = _("垫付日期不能早于企业同意方案的日期。")
    reference = (data.get("reference") or "").strip()
    if not reference:
        errors["reference"] = _("请填写付款流水号。")
    elif db.session.scalar(db.select(BuildPlan.id).where(BuildPlan.advance_reference == reference)):
        errors["reference"] = _("该付款流水号已登记。")
    if errors:
        raise ValidationFailed(_("垫资信息有误。"), errors)
    plan.status, plan.advanced_on, plan.advance_reference, plan.advanced_by_id = \
        "advanced", advanced_on, reference[:64], user.id
    plan.repayments = [Repayment(seq=n, due_on=due, amount=amount, paid=Decimal("0.00"))
                       for n, (due, amount) in enumerate(schedule(plan.cost, plan.instalments, advanced_on), start=1)]
    for device in plan.devices:
        device.owner, device.owner_bank_id = "bank", plan.bank_id
    audit.record("build_plan.advanced", plan, after={"cost": plan.cost, "reference": reference,
                                                     "advanced_on": advanced_on}, actor=user)
    db.session.commit()
    return plan


def record_payment(user, plan_id: int, data: dict) -> BuildPlan:
    """The bank records a repayment it received; it pays the instalments in order. Paid in
    full, the devices become the enterprise's."""
    plan = get_for(user, plan_id)
    _own(user, plan, "bank_id", _("只有该方案的垫资银行可以登记还款。"))
    _expect(plan, "advanced", "termination_requested")
    errors = {}
    try:
        amount = parse_amount(data.get("amount"), "amount")
    except ValidationFailed as e:
        errors.update(e.fields)
        amount = None
    left = outstanding(plan)
    if amount is not None and amount > left:
        errors["amount"] = _("还款金额超过未还余额 %(left)s 元。", left=left)
    paid_on = data.get("paid_on")
    if not isinstance(paid_on, date):
        errors["paid_on"] = _("请填写到账日期。")
    elif paid_on > today():
        errors["paid_on"] = _("到账日期不能晚于今天。")
    elif paid_on < plan.advanced_on:
        errors["paid_on"] = _("到账日期不能早于垫付日期。")
    reference = (data.get("reference") or "").strip()
    if not reference:
        errors["reference"] = _("请填写银行流水号。")
    elif db.session.scalar(db.select(RepaymentPayment.id).where(RepaymentPayment.reference == reference)):
        errors["reference"] = _("该银行流水号已登记，不能重复入账。")
    if errors:
        raise ValidationFailed(_("还款信息有误。"), errors)
    db.session.add(RepaymentPayment(plan_id=plan.id, amount=amount, paid_on=paid_on, reference=reference[:64],
                                    recorded_by_id=user.id))
    rest = amount
    for instalment in plan.repayments:
        if rest <= 0:
            break
        if instalment.status != "due":
            continue
        take = min(rest, instalment.amount - instalment.paid)
        instalment.paid += take
        rest -= take
        if instalment.paid == instalment.amount:
            instalment.status = "paid"
    audit.record("build_plan.repayment", plan, after={"amount": amount, "reference": reference,
                                                      "paid_on": paid_on}, actor=user)
    if outstanding(plan) == 0:
        _transfer_ownership(plan, paid_on, user)
    db.session.commit()
    return plan


def _transfer_ownership(plan: BuildPlan, paid_on: date, actor) -> None:
    plan.status, plan.repaid_on = "repaid", paid_on
    for device in plan.devices:
        if device.status != "retired":
            device.owner, device.owner_bank_id = "enterprise", None
    audit.record("build_plan.ownership_transferred", plan, after={
        "enterprise_id": plan.enterprise_id, "devices": [d.serial for d in plan.devices]}, actor=actor)
    notify.notify_enterprise(plan.enterprise_id, "build_plan", _l("建设资金已还清：%(title)s", title=plan.title),
                             _l("智能设备所有权已转移至贵公司。"))


def request_termination(user, plan_id: int, data: dict) -> BuildPlan:
    """Within a year the enterprise may ask the bank to end device use."""
    plan = get_for(user, plan_id)
    _own(user, plan, "enterprise_id", _("只有该小区的物业企业可以申请终止。"))
    _expect(plan, "agreed", "advanced")
    deadline = termination_deadline(plan)
    if deadline is None or today() > deadline:
        raise ValidationFailed(_("只能在一年内申请终止智能设备建设、使用（期限 %(d)s 已过）。", d=deadline),
                               {"reason": _("已超过一年的终止申请期限。")})
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写终止理由。"), {"reason": _("请填写终止理由。")})
    plan.status, plan.termination_reason, plan.termination_requested_at = "termination_requested", reason, now()
    audit.record("build_plan.termination_requested", plan, after={"reason": reason}, actor=user)
    db.session.commit()
    return plan


def decide_termination(user, plan_id: int, data: dict) -> BuildPlan:
    """The bank agrees (it removes the devices; instalments not yet paid are cancelled) or
    refuses (the plan goes on). Either way the enterprise stays under supervision."""
    plan = get_for(user, plan_id)
    _own(user, plan, "bank_id", _("只有该方案的垫资银行可以确认终止。"))
    _expect(plan, "termination_requested")
    decision = data.get("decision")
    if decision not in ("agree", "reject"):
        raise ValidationFailed(_("请选择意见。"), {"decision": _("请选择意见。")})
    note = (data.get("note") or "").strip()
    if decision == "reject":
        if not note:
            raise ValidationFailed(_("不同意须说明理由。"), {"note": _("不同意须说明理由。")})
        plan.status = "advanced" if plan.advanced_on else "agreed"
        plan.decision_note = note
        audit.record("build_plan.termination_refused", plan, after={"note": note}, actor=user)
        db.session.commit()
        return plan
    plan.status, plan.terminated_on = "terminated", today()
    for instalment in plan.repayments:
        if instalment.status == "due":
            instalment.status = "cancelled"
    at = now()
    removed = []
    for device in plan.devices:
        if device.status != "retired":
            set_status(device, "retired", at)
            removed.append(device.serial)
    audit.record("build_plan.terminated", plan, after={
        "devices_removed": removed, "enterprise_under_supervision": plan.enterprise.under_supervision,
        "note": note}, actor=user)
    notify.notify_enterprise(plan.enterprise_id, "build_plan", _l("智能设备建设、使用已终止：%(title)s", title=plan.title),
                             _l("设备由银行拆回；贵公司仍在住保中心监管之下。"))
    db.session.commit()
    return plan


def plan_view(user, plan: BuildPlan) -> dict:
    """What the plan page shows, and which actions the user may take now."""
    is_enterprise = user.enterprise_id is not None and user.enterprise_id == plan.enterprise_id
    is_bank = user.bank_id is not None and user.bank_id == plan.bank_id
    deadline = termination_deadline(plan)
    return {
        "paid": paid_total(plan), "outstanding": outstanding(plan), "termination_deadline": deadline,
        "devices": sorted(plan.devices, key=lambda d: d.serial),
        "can_decide": is_enterprise and plan.status == "proposed",
        "can_advance": is_bank and plan.status == "agreed",
        "can_pay": is_bank and plan.status in ("advanced", "termination_requested"),
        "can_request_termination": is_enterprise and plan.status in ("agreed", "advanced")
        and deadline is not None and today() <= deadline,
        "can_decide_termination": is_bank and plan.status == "termination_requested",
    }


def devices_of(plan: BuildPlan) -> list[Device]:
    return sorted(plan.devices, key=lambda d: d.serial)
