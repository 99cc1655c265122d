"""The city's annual supervision report (issue 14): figures for one year, gathered from the
same queries as the dashboards, rendered with charts (SVG) and tables into a PDF. Runs as a
long job (app/services/long_jobs.py), since a province-sized city takes a while. The
document itself is an official Chinese text whatever the reader's UI language."""
from collections import Counter
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _

from app.engine.calendar import SHANGHAI
from app.extensions import db
from app.models import (BankInstruction, Community, DisbursementRequest, Dispute, Enterprise, EscrowAccount,
                        HighRiskListing, LedgerTxn)
from app.services import dashboards, documents, escrow
from app.services.disputes import OUTCOMES
from app.services.long_jobs import runner
from app.web.labels import ENTERPRISE_FILING, RISK_STATUSES


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=SHANGHAI), datetime(year + 1, 1, 1, tzinfo=SHANGHAI)


def _sum(query) -> Decimal:
    return escrow.to_fen(Decimal(db.session.scalar(query) or 0))


def enterprise_figures() -> dict:
    enterprises = db.session.scalars(db.select(Enterprise)).all()
    stars = Counter(e.star_rating for e in enterprises)
    return {
        "count": len(enterprises),
        "filing": dashboards.labelled(Counter(e.filing_status for e in enterprises), ENTERPRISE_FILING),
        "risk": dashboards.labelled(Counter(e.risk_status for e in enterprises), RISK_STATUSES),
        "supervised": sum(1 for e in enterprises if e.under_supervision),
        "stars": [(f"{n} 星", stars.get(n, 0)) for n in (5, 4, 3, 2, 1)] + [("未评级", stars.get(None, 0))],
    }


def escrow_figures(year: int) -> dict:
    start, end = _year_bounds(year)
    accounts = db.session.scalars(db.select(EscrowAccount)).all()
    paid_in = _sum(db.select(db.func.sum(LedgerTxn.amount)).where(
        LedgerTxn.kind.in_(dashboards.RECEIPTS), LedgerTxn.booked_at >= start, LedgerTxn.booked_at < end))
    by_quarter = db.session.execute(
        db.select(DisbursementRequest.quarter, db.func.count(DisbursementRequest.id),
                  db.func.sum(DisbursementRequest.payable))
        .where(DisbursementRequest.year == year, DisbursementRequest.status == "paid")
        .group_by(DisbursementRequest.quarter).order_by(DisbursementRequest.quarter)).all()
    year_end = f"WY-Y{year}-%"
    executed = db.select(db.func.sum(BankInstruction.amount)).where(BankInstruction.status == "success",
                                                                   BankInstruction.reference.like(year_end))
    return {
        "accounts": len(accounts),
        "balance": sum(escrow.ledger_balances().values(), Decimal("0.00")),
        "paid_in": paid_in,
        "disbursed": [(f"第{q}季度", n, escrow.to_fen(Decimal(total))) for q, n, total in by_quarter],
        "disbursed_chart": [(f"第{q}季度", escrow.to_fen(Decimal(total))) for q, _n, total in by_quarter],
        "disbursed_total": sum((escrow.to_fen(Decimal(t)) for _q, _n, t in by_quarter), Decimal("0.00")),
        "released": _sum(executed.where(BankInstruction.kind == "year_end_release")),
        "cut": _sum(executed.where(BankInstruction.kind.like("cut_%"))),
        "collection": dashboards.collection_rates(accounts, year),
    }


def complaint_figures(year: int) -> dict:
    start, end = _year_bounds(year)
    rows = db.session.scalars(db.select(Dispute).where(Dispute.received_at >= start, Dispute.received_at < end)).all()
    months = Counter(d.received_at.astimezone(SHANGHAI).month for d in rows)
    scores = [d.satisfaction for d in rows if d.satisfaction]
    return {
        "count": len(rows),
        "by_category": Counter(d.category for d in rows).most_common(),
        "by_month": [(f"{m}月", months.get(m, 0)) for m in range(1, 13)],
        "by_outcome": [(str(OUTCOMES.get(code, code)), n) for code, n in Counter(d.outcome for d in rows if d.outcome)
                       .most_common()],
        "verified": sum(1 for d in rows if d.verified),
        "satisfaction": round(sum(scores) / len(scores), 2) if scores else None,
    }


def high_risk_figures(year: int) -> dict:
    start, end = _year_bounds(year)
    listed = db.session.scalars(db.select(HighRiskListing).where(HighRiskListing.listed_at >= start,
                                                                 HighRiskListing.listed_at < end)).all()
    removed = db.session.scalars(db.select(HighRiskListing).where(HighRiskListing.removed_at >= start,
                                                                  HighRiskListing.removed_at < end)).all()
    return {"listed": listed, "removed": removed}


@runner("annual_report")
def annual_report(job, step):
    year = int(job.params["year"])
    step(10, _("统计企业与小区"))
    figures = {"year": year, "enterprises": enterprise_figures(),
               "communities": db.session.scalar(db.select(db.func.count(Community.id))),
               "households": db.session.scalar(db.select(db.func.sum(Community.households))) or 0}
    step(35, _("统计监管资金"))
    figures["escrow"] = escrow_figures(year)
    step(60, _("统计投诉与调解"))
    figures["complaints"] = complaint_figures(year)
    figures["high_risk"] = high_risk_figures(year)
    step(80, _("生成 PDF"))
    return documents.generate("documents/annual_report.html", f"吉首市物业服务监管{year}年度报告",
                              kind="annual_report", actor=job.created_by, f=figures)
