"""Smart devices of the communities (policy attachment 1, art. 六 and 七(四)): the device
registry, who sees which devices, status changes, repair cases and the device_repair
process (a fault is repaired by the supplier within 24 hours; later, the case escalates to
the housing center and the delay goes on the supplier's record and the enterprise's credit
file), and the figures of the community device board.

Raw events come in through app/services/device_events.py; build plans (bank advance,
repayments, ownership) are in app/services/device_plans.py.
"""
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql

from app import jobs
from app.engine import runtime
from app.engine.calendar import now
from app.engine.registry import message, operator
from app.extensions import db
from app.models import (BuildPlan, Community, Device, DeviceDailySummary, DeviceStatusPeriod, DeviceSupplier,
                        MessageSubscription, ProcessInstance, RepairCase, SupplierRecord, User)
from app.models.base import utcnow
from app.permissions import reads_all, register_scope, scoped
from app.services import audit, notify, records
from app.services.cases import summary
from app.services.errors import Forbidden, NotFound, ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROCESS = "device_repair"
HEALTHY_MESSAGE = "devices.healthy"
REPAIR_HOURS = 24  # 丁方……确保在 24 小时内完成维修或更换 (art. 七(四)4)

KINDS = {"elevator": _l("梯控"), "access": _l("门禁"), "video": _l("监控"), "staff": _l("员工管理")}
STATUSES = {"online": _l("在线"), "offline": _l("离线"), "fault": _l("故障"), "retired": _l("已拆除")}
OWNERS = {"bank": _l("托管银行（建设资金未还清）"), "enterprise": _l("物业服务企业")}
REPAIR_STATUSES = {"open": _l("待维修"), "repaired": _l("已维修，待设备恢复"), "closed": _l("已修复")}
# What the platform reports. Faults open a repair case; `recovered` (or a heartbeat saying
# health "ok") is the device reporting healthy again.
EVENT_KINDS = {
    "heartbeat": _l("心跳"), "recovered": _l("故障恢复"), "door_open": _l("开门"), "forced_open": _l("强行开门"),
    "held_open": _l("门未关"), "face_recognised": _l("人脸识别"), "elevator_fault": _l("电梯故障"),
    "elevator_trapped": _l("电梯困人"), "access_fault": _l("门禁故障"), "camera_offline": _l("摄像头离线"),
    "device_fault": _l("设备故障"), "staff_checkin": _l("员工签到"), "staff_checkout": _l("员工签退"),
    "offline": _l("心跳中断（本系统判定离线）"),
}
FAULT_KINDS = frozenset({"elevator_fault", "elevator_trapped", "access_fault", "camera_offline", "device_fault"})

# A late repair is a bad record for one year; the points are placeholders until the scoring
# standard (评分标准) is data.
ENTERPRISE_OVERDUE_POINTS = Decimal("-1.00")
SUPPLIER_OVERDUE_POINTS = Decimal("-2.00")
RECORD_VALID_DAYS = 365

message(HEALTHY_MESSAGE, "设备恢复正常（设备平台上报）")


def local_date(value: datetime) -> date:
    return value.astimezone(SHANGHAI).date()


# ---------------------------------------------------------------- who sees what

def _org_clauses(user, community_col, supplier_col, bank_col=None) -> list:
    clauses = []
    if user.enterprise_id:
        clauses.append(community_col.in_(db.select(Community.id).where(Community.enterprise_id == user.enterprise_id)))
    if user.street_office_id:
        clauses.append(community_col.in_(db.select(Community.id).where(
            Community.street_office_id == user.street_office_id)))
    if user.device_supplier_id:
        clauses.append(supplier_col == user.device_supplier_id)
    if user.bank_id and bank_col is not None:
        clauses.append(bank_col == user.bank_id)
    return clauses


@register_scope(Device)
def _device_scope(query, user):
    """Supervisors and departments all; an enterprise or a street office the devices of its
    communities; a supplier its own devices; a bank the devices it owns or financed."""
    if reads_all(user):
        return query
    financed = Device.build_plan_id.in_(db.select(BuildPlan.id).where(BuildPlan.bank_id == user.bank_id)) \
        if user.bank_id else None
    clauses = _org_clauses(user, Device.community_id, Device.supplier_id, Device.owner_bank_id)
    if financed is not None:
        clauses.append(financed)
    return query.where(db.or_(*clauses) if clauses else db.false())


@register_scope(RepairCase)
def _repair_scope(query, user):
    if reads_all(user):
        return query
    clauses = _org_clauses(user, RepairCase.community_id, RepairCase.supplier_id)
    return query.where(db.or_(*clauses) if clauses else db.false())


def get_device_for(user, device_id: int) -> Device:
    device = db.session.scalar(scoped(Device, user).where(Device.id == device_id))
    if device is None:
        raise NotFound(_("设备不存在。"))
    return device


def get_repair_for(user, case_id: int) -> RepairCase:
    case = db.session.scalar(scoped(RepairCase, user).where(RepairCase.id == case_id))
    if case is None:
        raise NotFound(_("维修案件不存在。"))
    return case


def repair_for_instance(instance_id: int) -> RepairCase | None:
    return db.session.scalar(db.select(RepairCase).where(RepairCase.instance_id == instance_id))


def board_communities(user) -> list[Community]:
    """The communities whose device board the user may open: those with devices it may see,
    and, for an enterprise, street office or supervisor, every community of theirs."""
    with_devices = db.select(Device.community_id).where(Device.id.in_(scoped(Device, user).with_only_columns(
        Device.id)))
    query = db.select(Community).where(Community.id.in_(with_devices))
    if reads_all(user) or user.enterprise_id or user.street_office_id:
        query = scoped(Community, user).where(Community.id.in_(with_devices))
    return list(db.session.scalars(query.order_by(Community.name)))


def get_community_for(user, community_id: int) -> Community:
    community = next((c for c in board_communities(user) if c.id == community_id), None)
    if community is None:
        raise NotFound(_("小区不存在，或该小区没有您可查看的设备。"))
    return community


# ---------------------------------------------------------------- registry

def _parse_date(value, field: str, errors: dict, required=True) -> date | None:
    if isinstance(value, date):
        return value
    if value in (None, ""):
        if required:
            errors[field] = _("请填写日期。")
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = _("日期格式不正确，应为 2026-05-01。")
        return None


def register_device(user, data: dict) -> Device:
    """A supplier registers a device it installed (or the housing center does for it). A
    device built under a plan the bank financed belongs to the bank until repaid."""
    errors = {}
    if user.has_role("device_supplier") and user.device_supplier_id and not user.has_role("housing_center", "admin"):
        supplier_id = user.device_supplier_id
    elif user.has_role("housing_center", "admin"):
        supplier_id = int(data.get("supplier_id") or 0)
        if db.session.get(DeviceSupplier, supplier_id) is None:
            errors["supplier_id"] = _("请选择设备供应商。")
    else:
        raise Forbidden(_("只有设备供应商和住保中心可以登记设备。"))
    community = db.session.get(Community, int(data.get("community_id") or 0))
    if community is None:
        errors["community_id"] = _("请选择小区。")
    kind = data.get("kind")
    if kind not in KINDS:
        errors["kind"] = _("请选择设备类型。")
    serial = (data.get("serial") or "").strip()
    if not serial or len(serial) > 64:
        errors["serial"] = _("请填写设备序列号（不超过 64 个字符）。")
    elif db.session.scalar(db.select(Device.id).where(Device.serial == serial)):
        errors["serial"] = _("该序列号的设备已登记。")
    installed_on = _parse_date(data.get("installed_on"), "installed_on", errors)
    warranty_until = _parse_date(data.get("warranty_until"), "warranty_until", errors, required=False)
    if installed_on and warranty_until and warranty_until < installed_on:
        errors["warranty_until"] = _("维保期不能早于安装日期。")
    plan = None
    if data.get("build_plan_id"):
        plan = db.session.get(BuildPlan, int(data["build_plan_id"]))
        if plan is None or plan.supplier_id != supplier_id or (community and plan.community_id != community.id):
            errors["build_plan_id"] = _("该建设方案不属于此供应商和小区。")
        elif plan.status not in ("agreed", "advanced", "repaid"):
            errors["build_plan_id"] = _("建设方案尚未经物业企业同意，不能安装设备。")
    if errors:
        raise ValidationFailed(_("设备信息有误。"), errors)
    at = utcnow()
    device = Device(community_id=community.id, supplier_id=supplier_id, kind=kind, serial=serial,
                    model=(data.get("model") or "").strip()[:100], location=(data.get("location") or "").strip()[:200],
                    installed_on=installed_on, warranty_until=warranty_until, status="offline", status_since=at,
                    owner="enterprise")
    if plan is not None:
        device.build_plan_id = plan.id
        if plan.status in ("agreed", "advanced"):
            device.owner, device.owner_bank_id = "bank", plan.bank_id
    db.session.add(device)
    db.session.flush()
    db.session.add(DeviceStatusPeriod(device_id=device.id, status="offline", started_at=at))
    from app.services.device_events import adopt_unknown  # device_events builds on this module
    adopt_unknown(device)
    audit.record("device.registered", device, after={"serial": serial, "community_id": community.id, "kind": kind,
                                                     "supplier_id": supplier_id, "owner": device.owner}, actor=user)
    db.session.commit()
    return device


# ---------------------------------------------------------------- status changes

def among(column, values, item_type=db.Integer):
    """`column IN values`; on PostgreSQL one array parameter (`= ANY`) instead of a
    placeholder per value: psycopg parses a thousand-placeholder statement anew every batch
    (it caches short statements only), which costs more than running it."""
    values = list(values)
    if db.engine.dialect.name == "postgresql":
        return column == db.any_(db.bindparam("among", values, type_=postgresql.ARRAY(item_type), unique=True))
    return column.in_(values)


class OpenRecords:
    """The open status period and the open repair case of each device of an ingested batch,
    loaded in two queries, so that the batch's status changes cost no query per device
    (10 000 devices coming back online at once after an outage are one batch's work, not
    30 000 round trips). Kept up to date by set_status, fault and healthy."""

    def __init__(self, device_ids):
        ids = list(device_ids)
        self.periods = {p.device_id: p for p in db.session.scalars(db.select(DeviceStatusPeriod).where(
            among(DeviceStatusPeriod.device_id, ids), DeviceStatusPeriod.ended_at.is_(None)))}
        self.cases = {c.open_key: c for c in db.session.scalars(db.select(RepairCase).where(
            among(RepairCase.open_key, ids)))}


def set_status(device: Device, status: str, at: datetime, known: OpenRecords | None = None) -> None:
    """Close the current status period and open the next one (nothing when unchanged)."""
    if device.status == status:
        return
    period = DeviceStatusPeriod(device_id=device.id, status=status, started_at=at)
    if known is None:
        db.session.execute(db.update(DeviceStatusPeriod).where(DeviceStatusPeriod.device_id == device.id,
                                                               DeviceStatusPeriod.ended_at.is_(None))
                           .values(ended_at=at))
    else:
        if device.id in known.periods:
            known.periods[device.id].ended_at = at
        known.periods[device.id] = period
    db.session.add(period)
    device.status, device.status_since = status, at


def open_repair_case(device: Device, fault_kind: str, at: datetime, event_id: str | None) -> RepairCase | None:
    """A fault opens a repair case (one open case per device); its process starts in a job
    after the ingesting transaction commits, so ingestion never waits for the engine."""
    if db.session.scalar(db.select(RepairCase.id).where(RepairCase.open_key == device.id)):
        return None
    case = RepairCase(device_id=device.id, community_id=device.community_id,
                      enterprise_id=device.community.enterprise_id, supplier_id=device.supplier_id,
                      fault_kind=fault_kind, fault_event_id=event_id, fault_at=at,
                      deadline_at=at + timedelta(hours=REPAIR_HOURS), open_key=device.id)
    db.session.add(case)
    db.session.flush()
    audit.record("device.fault", case, after={"device": device.serial, "kind": fault_kind, "event_id": event_id,
                                              "deadline": case.deadline_at.isoformat()})
    jobs.enqueue("workers.devices.start_repair", case.id, queue="devices")
    return case


def _open_case(device: Device, known: OpenRecords | None) -> RepairCase | None:
    if known is not None:
        return known.cases.get(device.id)
    return db.session.scalar(db.select(RepairCase).where(RepairCase.open_key == device.id))


def fault(device: Device, fault_kind: str, at: datetime, event_id: str | None, known: OpenRecords | None = None) -> None:
    set_status(device, "fault", at, known)
    case = _open_case(device, known)
    if case is not None:
        case.healthy_at = None  # faulted again before the case closed: it must report healthy anew
        return
    case = open_repair_case(device, fault_kind, at, event_id)
    if known is not None and case is not None:
        known.cases[device.id] = case


def healthy(device: Device, at: datetime, known: OpenRecords | None = None) -> None:
    """The device reports healthy: a repaired case waiting for that closes (by a job that
    delivers the message to its process)."""
    set_status(device, "online", at, known)
    case = _open_case(device, known)
    if case is not None:
        case.healthy_at = at
        if case.status == "repaired":
            jobs.enqueue("workers.devices.deliver_healthy", case.id, queue="devices")


# ---------------------------------------------------------------- the device_repair process

def _title(case: RepairCase) -> str:
    device = case.device
    return f"设备维修 · {device.community.name} · {KINDS[device.kind]} {device.serial}"


def start_repair(case_id: int) -> None:
    """Start the repair process of a case (idempotent: a case with a process is left alone)."""
    case = db.session.get(RepairCase, case_id)
    if case is None or case.instance_id is not None or case.status == "closed":
        return
    instance = runtime.start(PROCESS, business_key=f"repair-{case.id}", title=_title(case), data={
        "repair_case_id": case.id, "deadline": case.deadline_at.isoformat(), "fault_kind": case.fault_kind},
        subject=case, orgs={"community_id": case.community_id, "enterprise_id": case.enterprise_id,
                            "street_office_id": case.community.street_office_id,
                            "device_supplier_id": case.supplier_id})
    case = db.session.get(RepairCase, case_id)
    case.instance_id = instance.id
    db.session.commit()


def deliver_healthy(case_id: int) -> bool:
    """Tell the waiting process that the device reports healthy; nothing when it does not
    wait (the supplier has not recorded the repair yet: that step reads the status itself)."""
    case = db.session.get(RepairCase, case_id)
    if case is None or case.instance_id is None or case.status != "repaired" or case.device.status != "online":
        return False
    instance = db.session.get(ProcessInstance, case.instance_id)
    waiting = db.session.scalar(db.select(MessageSubscription.id).where(
        MessageSubscription.instance_id == instance.id, MessageSubscription.message_name == HEALTHY_MESSAGE))
    if waiting is None:
        return False
    runtime.deliver_message(HEALTHY_MESSAGE, instance.business_key, {
        "healthy_at": case.healthy_at.isoformat() if case.healthy_at else None},
        message_id=f"healthy-{case.id}-{case.healthy_at.isoformat() if case.healthy_at else ''}")
    return True


def sweep_repairs() -> int:
    """Periodic safety net: start processes whose job was lost, and deliver healthy reports
    that arrived while the supplier's record was being saved."""
    done = 0
    for case_id in db.session.scalars(db.select(RepairCase.id).where(RepairCase.instance_id.is_(None),
                                                                     RepairCase.status != "closed")).all():
        start_repair(case_id)
        done += 1
    repaired = db.session.scalars(db.select(RepairCase.id).join(Device, Device.id == RepairCase.device_id).where(
        RepairCase.status == "repaired", Device.status == "online")).all()
    for case_id in repaired:
        done += bool(deliver_healthy(case_id))
    return done


def _case(case_id) -> RepairCase:
    case = db.session.get(RepairCase, int(case_id))
    if case is None:
        raise NotFound(_("维修案件不存在。"))
    return case


def ensure_own_device(user, case: RepairCase) -> None:
    """Only the device's own supplier records its repair."""
    if not user.device_supplier_id or user.device_supplier_id != case.supplier_id:
        raise Forbidden(_("这不是贵公司的设备，不能为其登记维修。"))


@operator("devices.inform_enterprise", "通知物业企业设备故障", params={"repair_case_id": "维修案件编号"})
def inform_enterprise(ctx, repair_case_id: int) -> dict:
    case = _case(repair_case_id)
    device = case.device
    title = _l("%(community)s %(kind)s设备 %(serial)s 故障", community=device.community.name,
               kind=KINDS[device.kind], serial=device.serial)
    body = _l("%(fault)s，发生于 %(at)s；供应商 %(supplier)s 须在 %(deadline)s 前修复。",
              fault=EVENT_KINDS.get(case.fault_kind, case.fault_kind),
              at=f"{case.fault_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}", supplier=case.supplier.name,
              deadline=f"{case.deadline_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}")
    if case.enterprise_id:
        notify.notify_enterprise(case.enterprise_id, "device_fault", title, body)
    for user in db.session.scalars(db.select(User).where(User.device_supplier_id == case.supplier_id,
                                                         User.active.is_(True))):
        notify.notify(user, "device_fault", title, body)
    audit.record("device.repair_opened", case, after={"instance_id": ctx.instance_id})
    return {"informed": True}


@operator("devices.record_repair", "登记维修结果",
          params={"repair_case_id": "维修案件编号", "repair_note": "维修情况", "parts": "更换配件"})
def record_repair(ctx, repair_case_id: int, repair_note: str, parts: str = "") -> dict:
    """The supplier's record of the repair; the case then waits for the device to report
    healthy (at once, if it already does)."""
    from app.services.tasks import last_completion
    case = _case(repair_case_id)
    task = last_completion(ctx.instance_id, "repair")
    case.status, case.repaired_at = "repaired", utcnow()
    case.repaired_by_id = task.completed_by_id if task else None
    case.repair_note, case.parts = repair_note or "", (parts or "")[:300]
    is_healthy = case.device.status == "online"
    audit.record("device.repaired", case, after={"note": case.repair_note, "parts": case.parts,
                                                 "healthy": is_healthy})
    return {"healthy": is_healthy}


def _record_delay(case: RepairCase, instance_id: int | None) -> None:
    """The delay goes on the supplier's record and the enterprise's credit file, once."""
    if db.session.scalar(db.select(SupplierRecord.id).where(SupplierRecord.repair_case_id == case.id)):
        return
    device = case.device
    title = f"设备维修超过 24 小时：{device.community.name} {KINDS[device.kind]} {device.serial}"
    detail = (f"故障 {case.fault_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}，"
              f"期限 {case.deadline_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}。")
    valid_until = local_date(now()) + timedelta(days=RECORD_VALID_DAYS)
    db.session.add(SupplierRecord(supplier_id=case.supplier_id, kind="repair_overdue", title=title, detail=detail,
                                  points=SUPPLIER_OVERDUE_POINTS, source_instance_id=instance_id,
                                  repair_case_id=case.id, valid_until=valid_until))
    if case.enterprise_id:
        records.credit(case.enterprise_id, "device_repair_overdue", title, detail=detail,
                       points=ENTERPRISE_OVERDUE_POINTS, source="智能设备维修", instance_id=instance_id,
                       valid_until=valid_until)
    audit.record("device.repair_overdue", case, after={"supplier_id": case.supplier_id,
                                                       "enterprise_id": case.enterprise_id})


@operator("devices.escalate", "超过 24 小时未修复：移交住保中心督办，记入供应商和企业记录",
          params={"repair_case_id": "维修案件编号"})
def escalate(ctx, repair_case_id: int) -> dict:
    case = _case(repair_case_id)
    case.overdue, case.escalated_at = True, case.escalated_at or utcnow()
    _record_delay(case, ctx.instance_id)
    return {"escalated": True}


@operator("devices.close_repair", "设备恢复正常，维修案件办结", params={"repair_case_id": "维修案件编号"})
def close_repair(ctx, repair_case_id: int) -> dict:
    case = _case(repair_case_id)
    case.status, case.closed_at, case.open_key = "closed", utcnow(), None
    case.healthy_at = case.healthy_at or case.closed_at
    if case.healthy_at > case.deadline_at:
        case.overdue = True
        _record_delay(case, ctx.instance_id)
    audit.record("device.repair_closed", case, after={"healthy_at": case.healthy_at.isoformat(),
                                                      "overdue": case.overdue})
    return {"closed": True, "overdue": case.overdue}


@summary("RepairCase")
def _summary(subject_id):
    case = db.session.get(RepairCase, subject_id)
    if case is None:
        return []
    device = case.device
    return [(_("小区"), device.community.name), (_("设备"), f"{KINDS[device.kind]} {device.serial} {device.location}"),
            (_("供应商"), case.supplier.name), (_("故障"), str(EVENT_KINDS.get(case.fault_kind, case.fault_kind))),
            (_("故障时间"), f"{case.fault_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"),
            (_("维修期限"), f"{case.deadline_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"),
            (_("状态"), str(REPAIR_STATUSES.get(case.status, case.status)))]


# ---------------------------------------------------------------- pages

def repair_inbox(user, *, open_only: bool = True) -> list[RepairCase]:
    """A supplier's repair cases (only its own devices); everyone else's by scope."""
    query = scoped(RepairCase, user).order_by(RepairCase.deadline_at)
    if open_only:
        query = query.where(RepairCase.status != "closed")
    return list(db.session.scalars(query.limit(500)))


def board(user, community: Community, days: int = 30) -> dict:
    """The community device board: devices by status, open repairs and the availability
    of the last `days` days (from the daily summaries)."""
    devices = list(db.session.scalars(scoped(Device, user).where(Device.community_id == community.id)
                                      .order_by(Device.kind, Device.serial)))
    counts = {status: sum(1 for d in devices if d.status == status) for status in STATUSES}
    repairs = list(db.session.scalars(scoped(RepairCase, user).where(RepairCase.community_id == community.id,
                                                                     RepairCase.status != "closed")
                                      .order_by(RepairCase.deadline_at)))
    since = local_date(now()) - timedelta(days=days - 1)
    summaries = list(db.session.scalars(db.select(DeviceDailySummary).where(
        DeviceDailySummary.community_id == community.id, DeviceDailySummary.day >= since)
        .order_by(DeviceDailySummary.day)))
    return {"devices": devices, "counts": counts, "repairs": repairs, "summaries": summaries,
            "chart_labels": [s.day.isoformat() for s in summaries],
            "chart_values": [float(s.availability) if s.availability is not None else None for s in summaries]}


def registry(user) -> list[Device]:
    """Every device the user may see (the registry export of the device index)."""
    from sqlalchemy.orm import joinedload
    return list(db.session.scalars(scoped(Device, user).join(Community, Community.id == Device.community_id)
                                   .options(joinedload(Device.community), joinedload(Device.supplier),
                                            joinedload(Device.owner_bank))
                                   .order_by(Community.name, Device.kind, Device.serial)))


def device_events(device: Device, limit: int = 200):
    from app.models import DeviceEvent
    return list(db.session.scalars(db.select(DeviceEvent).where(DeviceEvent.device_id == device.id)
                                   .order_by(DeviceEvent.occurred_at.desc(), DeviceEvent.id.desc()).limit(limit)))


def device_repairs(device: Device) -> list[RepairCase]:
    return list(db.session.scalars(db.select(RepairCase).where(RepairCase.device_id == device.id)
                                   .order_by(RepairCase.fault_at.desc())))


def supplier_records(supplier_id: int | None) -> list[SupplierRecord]:
    """One supplier's record, or (None, for supervisors) every supplier's."""
    query = db.select(SupplierRecord).order_by(SupplierRecord.recorded_at.desc()).limit(500)
    if supplier_id is not None:
        query = query.where(SupplierRecord.supplier_id == supplier_id)
    return list(db.session.scalars(query))


def overview(user, communities: list[Community]) -> dict[int, dict]:
    """Per community: devices by status (those the user may see) and open repairs."""
    ids = [c.id for c in communities]
    result = {i: {"total": 0, "open_repairs": 0, **{s: 0 for s in STATUSES}} for i in ids}
    visible = scoped(Device, user).with_only_columns(Device.id)
    for community_id, status, n in db.session.execute(
            db.select(Device.community_id, Device.status, db.func.count()).where(
                Device.community_id.in_(ids), Device.id.in_(visible)).group_by(Device.community_id, Device.status)):
        result[community_id][status] += n
        result[community_id]["total"] += n
    for community_id, n in db.session.execute(
            scoped(RepairCase, user).with_only_columns(RepairCase.community_id, db.func.count()).where(
                RepairCase.community_id.in_(ids), RepairCase.status != "closed").group_by(RepairCase.community_id)):
        result[community_id]["open_repairs"] = n
    return result


def open_repair_tasks(user) -> dict[int, "HumanTask"]:
    """instance id → the open task of a repair case the user may act on (for the inbox links)."""
    from app.models import HumanTask
    from app.permissions import actionable_tasks
    rows = db.session.scalars(actionable_tasks(user).where(HumanTask.status == "open",
                                                           HumanTask.model_key == PROCESS))
    return {t.instance_id: t for t in rows}


# ---------------------------------------------------------------- demo data

DEMO_DEVICES = [  # (serial, community index, kind, location)
    ("DEMO-ELV-0001", 0, "elevator", "1 栋 1 单元电梯"), ("DEMO-ACC-0001", 0, "access", "小区东门"),
    ("DEMO-CAM-0001", 0, "video", "地下车库入口"), ("DEMO-STF-0001", 0, "staff", "物业服务中心"),
    ("DEMO-ELV-0101", 1, "elevator", "2 栋电梯"), ("DEMO-ACC-0101", 1, "access", "小区南门"),
]


def seed_demo(supplier: DeviceSupplier, communities: list[Community], bank) -> None:
    """Demo devices for the first two communities (idempotent): the first community's were
    built under a plan the bank financed and is being repaid, so the bank owns them; a
    fortnight of daily summaries fills the availability chart. `python -m sandbox.devices
    --demo` reports heartbeats for the same serials."""
    from app.models import BuildPlanItem, Repayment, RepaymentPayment
    from app.services.device_plans import schedule
    if db.session.scalar(db.select(Device.id).where(Device.serial == DEMO_DEVICES[0][0])):
        return
    today = local_date(now())
    plan = BuildPlan(community_id=communities[0].id, enterprise_id=communities[0].enterprise_id,
                     supplier_id=supplier.id, bank_id=bank.id, title=f"{communities[0].name}智慧小区一期",
                     description="梯控、门禁、监控、员工考勤", cost=Decimal("96000.00"), instalments=12,
                     status="advanced", agreed_at=utcnow() - timedelta(days=95), advanced_on=today - timedelta(days=90),
                     advance_reference="DEMO-ADV-0001",
                     items=[BuildPlanItem(kind=k, model="ZL-2000", quantity=1, unit_price=Decimal("24000.00"))
                            for k in KINDS])
    plan.repayments = [Repayment(seq=n, due_on=due, amount=amount, paid=amount if due <= today else Decimal("0.00"),
                                 status="paid" if due <= today else "due")
                       for n, (due, amount) in enumerate(schedule(plan.cost, 12, plan.advanced_on), start=1)]
    plan.payments = [RepaymentPayment(amount=r.amount, paid_on=r.due_on, reference=f"DEMO-REP-{r.seq:04d}")
                     for r in plan.repayments if r.status == "paid"]
    db.session.add(plan)
    db.session.flush()
    at = utcnow() - timedelta(days=90)
    for serial, index, kind, location in DEMO_DEVICES:
        community = communities[index]
        device = Device(community_id=community.id, supplier_id=supplier.id, kind=kind, serial=serial, model="ZL-2000",
                        location=location, installed_on=today - timedelta(days=88),
                        warranty_until=today + timedelta(days=365 * 3), status="offline", status_since=at,
                        created_at=at)
        if index == 0:
            device.build_plan_id, device.owner, device.owner_bank_id = plan.id, "bank", bank.id
        db.session.add(device)
        db.session.flush()
        db.session.add(DeviceStatusPeriod(device_id=device.id, status="offline", started_at=at))
    for index in (0, 1):
        for back in range(14, 0, -1):
            availability = Decimal("100.00") - Decimal((back * 7 + index * 3) % 9) * Decimal("0.75")
            db.session.add(DeviceDailySummary(community_id=communities[index].id, day=today - timedelta(days=back),
                                              devices=4 if index == 0 else 2, availability=availability,
                                              faults=1 if (back + index) % 6 == 0 else 0,
                                              events=1400 + back * 13, staff_checkins=8 if index == 0 else 0,
                                              staff_present=4 if index == 0 else 0))
    db.session.commit()
