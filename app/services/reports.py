"""The city's annual supervision report (issue 14): figures for one year (filing, ratings,
escrow with disbursements and cuts, complaints, high-risk list, smart devices), gathered
from the same queries as the dashboards, rendered with charts (SVG) and tables into a PDF. Runs as a
long job (app/services/long_jobs.py), since a province-sized city takes a while. The
document itself is an official Chinese text whatever the reader's UI language."""
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _

from app.engine.calendar import SHANGHAI
from app.extensions import db
from app.models import (BankInstruction, Community, Device, DeviceDailySummary, DeviceSupplier, DisbursementRequest,
                        Dispute, Enterprise, EscrowAccount, HighRiskListing, LedgerTxn, RepairCase)
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
        "stars": [(f"{n} 星", stars.get(n, 0)) for n in (5, 4, 3, 2, 1, 0)] + [("未评级", stars.get(None, 0))],
    }


def grade_figures() -> list[tuple[str, int]]:
    """Communities by the grade of their latest evaluation, then the ungraded."""
    counts = Counter(db.session.scalars(db.select(Community.grade)))
    grades = list(dashboards.GRADES) + sorted(g for g in counts if g and g not in dashboards.GRADES)
    return [(f"{g} 级", counts.get(g, 0)) for g in grades] + [("未定级", counts.get(None, 0))]


def _cents(total) -> Decimal:
    """A sum of two-decimal figures, exact again (SQLite sums NUMERIC columns as floats)."""
    return Decimal(str(total)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _percent(part, whole) -> Decimal | None:
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), ROUND_HALF_UP) if whole else None


def device_figures(year: int) -> dict:
    """Smart devices in the year (policy attachment 1, art. 七(四)): per community its
    devices, average daily availability and repairs by outcome (on time within 24 hours,
    late, still open); per supplier the same repairs and its on-time rate; the city's totals
    (availability weighted by each day's number of devices)."""
    start, end = _year_bounds(year)
    days = (DeviceDailySummary.day >= date(year, 1, 1), DeviceDailySummary.day <= date(year, 12, 31),
            DeviceDailySummary.availability.is_not(None))
    availability = {cid: _cents(total) / n for cid, total, n in db.session.execute(
        db.select(DeviceDailySummary.community_id, db.func.sum(DeviceDailySummary.availability),
                  db.func.count(DeviceDailySummary.availability)).where(*days)
        .group_by(DeviceDailySummary.community_id))}
    weighted = db.session.execute(db.select(
        db.func.sum(DeviceDailySummary.availability * DeviceDailySummary.devices),
        db.func.sum(DeviceDailySummary.devices)).where(*days)).one()
    live = Device.status != "retired"
    devices_of = {"community": dict(db.session.execute(db.select(Device.community_id, db.func.count()).where(live)
                                                       .group_by(Device.community_id)).all()),
                  "supplier": dict(db.session.execute(db.select(Device.supplier_id, db.func.count()).where(live)
                                                      .group_by(Device.supplier_id)).all())}
    repairs = {"community": defaultdict(Counter), "supplier": defaultdict(Counter)}
    for community_id, supplier_id, status, overdue in db.session.execute(db.select(
            RepairCase.community_id, RepairCase.supplier_id, RepairCase.status, RepairCase.overdue).where(
            RepairCase.fault_at >= start, RepairCase.fault_at < end)):
        outcome = "late" if overdue else "on_time" if status == "closed" else "open"
        for by, key in (("community", community_id), ("supplier", supplier_id)):
            repairs[by][key][outcome] += 1
    names = {"community": dict(db.session.execute(db.select(Community.id, Community.name).where(
        Community.id.in_(set(devices_of["community"]) | set(repairs["community"]) | set(availability)))).all()),
        "supplier": dict(db.session.execute(db.select(DeviceSupplier.id, DeviceSupplier.name).where(
            DeviceSupplier.id.in_(set(devices_of["supplier"]) | set(repairs["supplier"])))).all())}

    def rows(by: str) -> list[dict]:
        out = []
        for key, name in names[by].items():
            r = repairs[by][key]
            out.append({"name": name, "devices": devices_of[by].get(key, 0), "faults": sum(r.values()),
                        "on_time": r["on_time"], "late": r["late"], "open": r["open"],
                        "on_time_rate": _percent(r["on_time"], r["on_time"] + r["late"]),
                        "availability": availability[key].quantize(Decimal("0.01"), ROUND_HALF_UP)
                        if by == "community" and key in availability else None})
        return sorted(out, key=lambda x: x["name"])

    total = Counter()
    for r in repairs["supplier"].values():
        total.update(r)
    city = (_cents(weighted[0]) / Decimal(weighted[1])).quantize(Decimal("0.01"), ROUND_HALF_UP) \
        if weighted[1] else None
    by_community = rows("community")
    return {"devices": sum(devices_of["community"].values()), "availability": city,
            "faults": sum(total.values()), "on_time": total["on_time"], "late": total["late"], "open": total["open"],
            "on_time_rate": _percent(total["on_time"], total["on_time"] + total["late"]),
            "by_community": by_community, "by_supplier": rows("supplier"),
            "availability_chart": [(r["name"], r["availability"]) for r in by_community
                                   if r["availability"] is not None],
            "repairs_chart": [("24 小时内修复", total["on_time"]), ("超过 24 小时", total["late"]),
                              ("维修中", total["open"])]}


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
    step(70, _("统计智能设备"))
    figures["devices"] = device_figures(year)
    figures["grades"] = grade_figures()
    step(80, _("生成 PDF"))
    return documents.generate("documents/annual_report.html", f"吉首市物业服务监管{year}年度报告",
                              kind="annual_report", actor=job.created_by, f=figures)
