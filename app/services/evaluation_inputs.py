"""What feeds the annual evaluation besides the departments' scoring tasks: daily-inspection
deductions, owner satisfaction, verified complaints, late device repairs … Each feeder
registers a function here and the evaluation asks all of them, so the feeders and the
evaluation do not import each other. Inspections and surveys register theirs in their own
modules; the complaint and device-repair feeders below only read those areas' records.

A feeder is `fn(enterprise_id, community_id, year) -> list[EvaluationInput]`; it reads only
(it runs inside the evaluation's transaction) and returns one line per point that moves the
total, each traced to its source so the breakdown can show where every point came from. A
line's item code names the scoring-standard item it counts under; a code the year's
standard lacks puts the line under "other"."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Callable
from zoneinfo import ZoneInfo

from app.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FEEDERS: dict[str, Callable] = {}

# The default standard's items (app/services/scoring.py DEFAULT) and their rules:
# B3 业主投诉（含 12345 热线）及时处理 — "核实投诉每件扣 1 分";
# B2 公共设施设备运行正常，故障 24 小时内修复 — "超时修复每次扣 2 分" (agreement art. 7(4)4).
COMPLAINT_ITEM = "B3"
REPAIR_ITEM = "B2"
REPAIR_POINTS = Decimal("-2.00")


@dataclass(frozen=True)
class EvaluationInput:
    item_code: str  # the scoring-standard item the points belong to
    points: Decimal  # negative for a deduction, positive for a bonus
    source: str  # "inspection", "survey", "complaint", "repair_case" …
    source_id: int | None  # the finding, survey, complaint or repair case the points come from
    title: str  # what a reader of the breakdown sees (public: no personal data)


def feeder(name: str):
    def register(fn):
        FEEDERS[name] = fn
        return fn
    return register


def collect(enterprise_id: int, community_id: int, year: int) -> list[EvaluationInput]:
    return [line for name in sorted(FEEDERS) for line in FEEDERS[name](enterprise_id, community_id, year)]


def _year(column, year: int):
    """The column's moment falls in the year, Shanghai time."""
    return (column >= datetime(year, 1, 1, tzinfo=SHANGHAI)) & (column < datetime(year + 1, 1, 1, tzinfo=SHANGHAI))


@feeder("complaints")
def complaint_lines(enterprise_id: int, community_id: int, year: int) -> list[EvaluationInput]:
    """Every complaint against the enterprise at this community closed in the year and found
    true at the return visit deducts the points of its credit record (one per complaint)."""
    from app.models import Dispute
    from app.services.disputes import COMPLAINT_POINTS, SOURCES
    rows = db.session.scalars(db.select(Dispute).where(
        Dispute.enterprise_id == enterprise_id, Dispute.community_id == community_id, Dispute.verified.is_(True),
        _year(Dispute.closed_at, year)).order_by(Dispute.closed_at, Dispute.id))
    return [EvaluationInput(COMPLAINT_ITEM, COMPLAINT_POINTS, "complaint", d.id,
                            f"{d.closed_at.astimezone(SHANGHAI):%Y-%m-%d} 核实投诉：{d.category}（"
                            + (f"12345 工单 {d.work_order_no}" if d.work_order_no else str(SOURCES[d.source])) + "）")
            for d in rows]


@feeder("device_repairs")
def repair_lines(enterprise_id: int, community_id: int, year: int) -> list[EvaluationInput]:
    """Every fault of the year at this community not repaired within 24 hours (escalated, or
    healthy again only after the deadline) deducts under the repair item."""
    from app.models import Device, RepairCase
    from app.services.devices import KINDS
    rows = db.session.execute(db.select(RepairCase, Device).join(Device, Device.id == RepairCase.device_id).where(
        RepairCase.enterprise_id == enterprise_id, RepairCase.community_id == community_id,
        RepairCase.overdue.is_(True), _year(RepairCase.fault_at, year))
        .order_by(RepairCase.fault_at, RepairCase.id)).all()
    return [EvaluationInput(REPAIR_ITEM, REPAIR_POINTS, "repair_case", case.id,
                            f"{case.fault_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} {KINDS[device.kind]} {device.serial} "
                            f"故障超过 24 小时未修复（供应商 {case.supplier.name}）")
            for case, device in rows]
