"""The figures behind each role's dashboard (the home page). Every figure is computed here
from the database, scoped to what the user may see, so the charts and the tables beside
them show the same numbers and tests can check them.

A figure is a list of (label, value) pairs; money is Decimal, shown as yuan.
"""
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import (BankInstruction, Community, DisbursementRequest, Dispute, EmergencyTakeover, Enterprise,
                        EscrowAccount, Evaluation, HumanTask, LedgerEntry, LedgerTxn, ProcessModel)
from app.permissions import actionable_tasks, scoped
from app.roles import role_name
from app.services import disputes, escrow, fees, inspections, takeover
from app.web.labels import ENTERPRISE_FILING, INSTRUCTION_STATUSES, RISK_STATUSES

RECEIPTS = fees.RECEIPTS
CENTER_ROLES = ("housing_center", "housing_bureau", "admin", "natural_resources", "fire_brigade",
                "market_regulation", "justice_bureau")


def kind_for(user) -> str:
    """Which dashboard the user's home page shows."""
    if user.has_role(*CENTER_ROLES):
        return "center"
    for kind in ("street_office", "enterprise", "bank"):
        if user.has_role(kind):
            return kind
    return "basic"


def labelled(counter: Counter, labels: dict) -> list[tuple[str, int]]:
    return [(str(labels.get(code, code)), counter.get(code, 0)) for code in labels]


def _sla(task: HumanTask, moment: datetime) -> str:
    if task.due_at is None:
        return "no_due"
    if task.due_at < moment:
        return "overdue"
    if task.due_at.astimezone(SHANGHAI).date() == moment.astimezone(SHANGHAI).date():
        return "due_today"
    return "on_time"


SLA_STATES = {"overdue": _l("超期"), "due_today": _l("今日到期"), "on_time": _l("未到期"), "no_due": _l("无期限")}
SLA_COLORS = {"overdue": "#dc3545", "due_today": "#fd7e14", "on_time": "#198754", "no_due": "#adb5bd"}


def open_cases_by_process(tasks: list[HumanTask]) -> dict:
    """{'processes': [name…], 'series': [(sla state label, [count per process])…]} (a list,
    so the legend keeps the order overdue → no deadline), and 'colors', one per SLA state."""
    moment = now()
    names = dict(db.session.execute(db.select(ProcessModel.key, ProcessModel.name)).all())
    per = defaultdict(Counter)
    for task in tasks:
        per[task.model_key][_sla(task, moment)] += 1
    keys = sorted(per)
    return {"processes": [names.get(k, k) for k in keys],
            "series": [(str(label), [per[k][state] for k in keys]) for state, label in SLA_STATES.items()],
            "colors": [SLA_COLORS[state] for state in SLA_STATES]}


def collection_rates(accounts: list[EscrowAccount], year: int) -> list[dict]:
    """Per community with a supervised account: owner payments received into escrow in the
    year against the receivable (the fee roll, else the community's annual receivable fee;
    policy 五(四), app/services/fees.py), lowest rate first."""
    communities = list({a.community_id: a.community for a in accounts}.values())
    return [{"community": r["community"].name, "community_id": r["community"].id, "receivable": r["receivable"],
             "received": r["received"], "rate": r["rate"]} for r in fees.rates(communities, year)]


def escrow_positions(accounts: list[EscrowAccount]) -> list[dict]:
    balances = escrow.ledger_balances()
    return [{"community": a.community.name, "account": a, "balance": balances.get(a.id, Decimal("0.00")),
             "floor": escrow.bond_floor(a)} for a in accounts]


def disbursed_by_quarter(account_ids) -> list[tuple[str, Decimal]]:
    rows = db.session.execute(
        db.select(DisbursementRequest.year, DisbursementRequest.quarter, db.func.sum(DisbursementRequest.payable))
        .where(DisbursementRequest.status == "paid", DisbursementRequest.escrow_account_id.in_(account_ids))
        .group_by(DisbursementRequest.year, DisbursementRequest.quarter)
        .order_by(DisbursementRequest.year, DisbursementRequest.quarter)).all()
    return [(f"{year}Q{quarter}", escrow.to_fen(Decimal(total))) for year, quarter, total in rows]


QUARTERS_SHOWN = 8
GRADES = ("A", "B", "C", "D")  # bpmn/community_grade.dmn; a grade a manager adds there is shown too


def quarter_ends(quarters: int = QUARTERS_SHOWN) -> list[tuple[str, datetime]]:
    """(label, first moment after the quarter in Asia/Shanghai) of the last `quarters`
    quarters, the current one last."""
    year, quarter = escrow.current_quarter()
    ends = []
    for back in range(quarters - 1, -1, -1):
        y, q = divmod(year * 4 + quarter - 1 - back, 4)
        month = 3 * q + 4  # the month after the quarter's last
        ends.append((f"{y}Q{q + 1}", datetime(y + (month > 12), (month - 1) % 12 + 1, 1, tzinfo=SHANGHAI)))
    return ends


def escrow_by_quarter(accounts_query) -> list[tuple[str, Decimal]]:
    """The supervised funds (the ledger's bank book) of the accounts at each quarter's end,
    the current quarter's being today's balance, from the first quarter with a booking (at
    most the last QUARTERS_SHOWN). One query: a conditional sum per quarter."""
    ends = quarter_ends()
    ids = accounts_query.with_only_columns(EscrowAccount.id)
    row = db.session.execute(db.select(db.func.min(LedgerTxn.booked_at), *[
        db.func.sum(db.case((LedgerTxn.booked_at < end, LedgerEntry.amount), else_=0)) for _label, end in ends])
        .select_from(LedgerEntry).join(LedgerTxn, LedgerTxn.id == LedgerEntry.txn_id)
        .where(LedgerEntry.book == "bank", LedgerEntry.escrow_account_id.in_(ids))).one()
    first, totals = row[0], row[1:]
    if first is None:
        return []
    return [(label, escrow.to_fen(Decimal(total or 0))) for (label, end), total in zip(ends, totals) if end > first]


def communities_by_grade(user) -> list[tuple[str, int]]:
    """Communities by the grade of their latest evaluation (bpmn/community_grade.dmn), then
    those not graded yet."""
    counts = dict(db.session.execute(scoped(Community, user).with_only_columns(Community.grade, db.func.count())
                                     .group_by(Community.grade)).all())
    grades = list(GRADES) + sorted(g for g in counts if g and g not in GRADES)
    return [(g, counts.get(g, 0)) for g in grades] + [(_("未定级"), counts.get(None, 0))]


def published_scores(user) -> tuple[int | None, list[tuple[str, Decimal]]]:
    """(year, [(community, total)]) of the latest year with published evaluation results
    (disclosed or final) the user may see, best first."""
    published = scoped(Evaluation, user).where(Evaluation.status.in_(("disclosure", "final")),
                                               Evaluation.total.is_not(None))
    year = db.session.scalar(published.with_only_columns(db.func.max(Evaluation.year)))
    if year is None:
        return None, []
    rows = db.session.scalars(published.where(Evaluation.year == year).order_by(Evaluation.total.desc(),
                                                                                Evaluation.id)).all()
    return year, [(ev.community.name, ev.total) for ev in rows]


def _open_tasks(query) -> list[HumanTask]:
    return db.session.scalars(query.where(HumanTask.status == "open")).all()


def center(user) -> dict:
    enterprises = db.session.scalars(scoped(Enterprise, user)).all()
    accounts = db.session.scalars(escrow.visible_accounts(user)).all()
    positions = escrow_positions(accounts)
    tasks = _open_tasks(db.select(HumanTask))
    moment = now()
    overdue = Counter(t.role for t in tasks if t.due_at is not None and t.due_at < moment)
    complaints = disputes.statistics(user)
    return {
        "filing": labelled(Counter(e.filing_status for e in enterprises), ENTERPRISE_FILING),
        "risk": labelled(Counter(e.risk_status for e in enterprises), RISK_STATUSES),
        "supervision": [(_("已纳入资金监管"), sum(1 for e in enterprises if e.under_supervision)),
                        (_("未纳入资金监管"), sum(1 for e in enterprises if not e.under_supervision))],
        "escrow_total": sum((p["balance"] for p in positions), Decimal("0.00")),
        "escrow_accounts": len(accounts),
        "escrow_by_quarter": escrow_by_quarter(escrow.visible_accounts(user)),
        "grades": communities_by_grade(user),
        "disbursed": disbursed_by_quarter([a.id for a in accounts]),
        "collection": collection_rates(accounts, moment.astimezone(SHANGHAI).year),
        "open_cases": open_cases_by_process(tasks),
        "overdue_by_role": [(role_name(role), n) for role, n in overdue.most_common()],
        "complaints_by_category": complaints["by_category"],
        "complaints_by_month": complaints["by_month"],
        "findings": inspections.open_counts(user),
    }


def street_office(user) -> dict:
    communities = db.session.scalars(scoped(Community, user).order_by(Community.name)).all()
    accounts = db.session.scalars(escrow.visible_accounts(user)).all()
    open_disputes = db.session.scalars(disputes.visible(user).where(
        Dispute.status.not_in(("closed", "not_property")))).all()
    tasks = _open_tasks(db.select(HumanTask).where(HumanTask.street_office_id == user.street_office_id))
    takeovers = db.session.scalars(takeover.visible(user).order_by(EmergencyTakeover.id.desc())).all()
    return {
        "takeovers_by_status": labelled(Counter(t.status for t in takeovers), takeover.STATUSES),
        "takeovers": [t for t in takeovers if t.status in takeover.OPEN_STATUSES][:20],
        "takeover_statuses": takeover.STATUSES,
        "communities": communities,
        "open_disputes": len(open_disputes),
        "disputes_by_status": labelled(Counter(d.status for d in open_disputes), disputes.STATUSES),
        "open_cases": open_cases_by_process(tasks),
        "collection": collection_rates(accounts, now().astimezone(SHANGHAI).year),
        "findings": inspections.open_counts(user),
    }


def enterprise(user) -> dict:
    accounts = db.session.scalars(escrow.visible_accounts(user)).all()
    own = db.session.get(Enterprise, user.enterprise_id)
    complaints = db.session.scalars(disputes.visible(user)).all()
    year, scores = published_scores(user)
    return {
        "enterprise": own,
        "score_year": year,
        "scores": scores,
        "open_cases": open_cases_by_process(_open_tasks(actionable_tasks(user))),
        "positions": escrow_positions(accounts),
        "disbursed": disbursed_by_quarter([a.id for a in accounts]),
        "complaints_open": sum(1 for d in complaints if d.status not in ("closed", "not_property")),
        "complaints_verified": sum(1 for d in complaints if d.verified),
        "findings": inspections.open_counts(user),
    }


def bank(user) -> dict:
    rows = db.session.execute(
        db.select(BankInstruction.status, db.func.count(BankInstruction.id), db.func.sum(BankInstruction.amount))
        .where(BankInstruction.bank_id == user.bank_id).group_by(BankInstruction.status)).all()
    counts = {status: (n, escrow.to_fen(Decimal(total or 0))) for status, n, total in rows}
    pending = db.session.scalars(db.select(BankInstruction).where(
        BankInstruction.bank_id == user.bank_id, BankInstruction.status.in_(("created", "processing")))
        .order_by(BankInstruction.created_at)).all()
    by_status = [(str(label), *counts.get(code, (0, Decimal("0.00")))) for code, label in INSTRUCTION_STATUSES.items()]
    return {
        "by_status": by_status,  # (label, count, amount)
        "count_by_status": [(label, n) for label, n, _amount in by_status],
        "pending": pending,
        "accounts": len(db.session.scalars(escrow.visible_accounts(user)).all()),
    }


BUILDERS = {"center": center, "street_office": street_office, "enterprise": enterprise, "bank": bank}


def for_user(user) -> tuple[str, dict]:
    kind = kind_for(user)
    return kind, (BUILDERS[kind](user) if kind in BUILDERS else {})
