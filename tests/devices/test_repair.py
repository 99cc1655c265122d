"""The device_repair process: a fault reported by the platform opens a repair task for the
device's supplier and informs the enterprise; the supplier records the repair; the case
closes when the device reports healthy; past 24 hours the timer job (queued by the real
scheduler, run by a real RQ worker) escalates it to the housing center and records the delay against the supplier and the enterprise. Another
supplier can neither see nor record the repair."""
from datetime import datetime, timedelta, timezone

import pytest
from redis import Redis
from rq import Queue

from app.engine import runtime
from app.extensions import db
from app.models import (CreditRecord, DeviceStatusPeriod, HumanTask, Notification, ProcessInstance, RepairCase,
                        SupplierRecord)
from tests.devices.conftest import (control, device, open_task, platform_state, repair_of, run_scheduler_once,
                                    run_worker)


def act(client, task, **data):
    return client.post(f"/tasks/{task.id}", data={"action": "complete", **data}, follow_redirects=True)


def fault(platform, serial="SN-ELV-1", kind="elevator_fault", at=None):
    when = {"occurred_at": at.isoformat()} if at else {}
    control(platform, "heartbeat", **when)
    control(platform, "fault", serial=serial, type=kind, data={"code": "E21"}, **when)
    control(platform, "flush")
    case = repair_of(serial)
    assert case is not None and case.instance_id is not None
    return case


def test_fault_repaired_then_healthy_closes_the_case(app, registered, platform, login_as):
    w = registered
    enterprise_user = login_as("enterprise", org=w["enterprise"])
    case = fault(platform)
    task = open_task(case)
    assert task.spec_id == "repair" and task.role == "device_supplier"
    assert task.device_supplier_id == w["supplier"].id and task.due_at == case.deadline_at
    note = db.session.scalar(db.select(Notification).where(Notification.user_id == enterprise_user.user.id))
    assert note.kind == "device_fault" and "SN-ELV-1" in note.title and "24" not in note.title

    supplier = login_as("device_supplier", org=w["supplier"])
    inbox = supplier.get("/inbox").get_data(as_text=True)
    assert "SN-ELV-1" in inbox
    assert "SN-ELV-1" in supplier.get("/devices/repairs").get_data(as_text=True)
    other = login_as("device_supplier", org=w["other_supplier"])
    assert "SN-ELV-1" not in other.get("/inbox").get_data(as_text=True)
    assert "SN-ELV-1" not in other.get("/devices/repairs").get_data(as_text=True)
    refused = other.post(f"/tasks/{task.id}", data={"action": "complete", "repair_note": "换了主板"})
    assert refused.status_code in (403, 404)
    assert db.session.get(HumanTask, task.id).status == "open"

    empty = act(supplier, task)
    assert "请填写维修情况" in empty.get_data(as_text=True)
    act(supplier, task, repair_note="更换电梯控制主板，复位后试运行正常。", parts="主板 ZL-MB-3")
    case = db.session.get(RepairCase, case.id)
    assert case.status == "repaired" and case.repaired_by_id == supplier.user.id and case.parts == "主板 ZL-MB-3"
    assert db.session.get(ProcessInstance, case.instance_id).status == "waiting"  # for the device itself

    control(platform, "recover", serial="SN-ELV-1")
    control(platform, "flush")
    case = db.session.get(RepairCase, case.id)
    assert case.status == "closed" and case.healthy_at is not None and not case.overdue and case.open_key is None
    assert db.session.get(ProcessInstance, case.instance_id).status == "completed"
    assert device("SN-ELV-1").status == "online"
    assert db.session.scalar(db.select(db.func.count(CreditRecord.id))) == 0
    assert db.session.scalar(db.select(db.func.count(SupplierRecord.id))) == 0

    # A second fault later is a new case.
    control(platform, "fault", serial="SN-ELV-1", type="elevator_trapped")
    control(platform, "flush")
    assert db.session.scalar(db.select(db.func.count(RepairCase.id))) == 2


def test_device_already_healthy_when_the_repair_is_recorded(app, registered, platform, login_as):
    case = fault(platform, "SN-ACC-1", "access_fault")
    control(platform, "recover", serial="SN-ACC-1")
    control(platform, "flush")
    assert db.session.get(RepairCase, case.id).status == "open"  # the supplier must still record its repair
    supplier = login_as("device_supplier", org=registered["supplier"])
    act(supplier, open_task(case), repair_note="更换读卡器。")
    case = db.session.get(RepairCase, case.id)
    assert case.status == "closed" and db.session.get(ProcessInstance, case.instance_id).status == "completed"


def test_not_repaired_within_24_hours_escalates_and_records_the_delay(app, registered, platform, login_as, clock,
                                                                     redis_url, database_url, tmp_path):
    """The fault came in 24 h 10 min ago (the engine's clock is set back while it is reported,
    so the case and its timer start then). A minute before the deadline the timer job finds
    nothing due; now, the real scheduler queues the timer job on its queue and a real RQ
    worker process, on its own clock, escalates the case."""
    w = registered
    reported = datetime.now(timezone.utc) - timedelta(hours=24, minutes=10)
    installed = reported - timedelta(days=1)  # registered before the fault, not just now
    for d in w["devices"].values():
        d.created_at = d.status_since = installed
    db.session.execute(db.update(DeviceStatusPeriod).values(started_at=installed))
    db.session.commit()
    clock(reported)
    case = fault(platform, at=reported)
    assert case.deadline_at == reported + timedelta(hours=24)
    clock(case.fault_at + timedelta(hours=23, minutes=59))
    assert runtime.advance_due_timers() == 0
    assert db.session.get(RepairCase, case.id).escalated_at is None
    clock(None)

    connection = Redis.from_url(redis_url)
    connection.flushdb()
    app.config["REDIS_URL"] = redis_url
    try:
        run_scheduler_once(app, database_url, redis_url, tmp_path)
        assert Queue("timers", connection=connection).count == 1  # workers.engine.tick
        db.session.expire_all()
        assert db.session.get(RepairCase, case.id).escalated_at is None  # only queued so far
        run_worker(app, database_url, redis_url, tmp_path, queues=("timers",))
        assert Queue("timers", connection=connection).count == 0
        assert Queue("devices", connection=connection).count == 2  # poll and daily: not this worker's queue
    finally:
        app.config["REDIS_URL"] = None
        connection.flushdb()
    case = db.session.get(RepairCase, case.id)
    assert case.overdue and case.escalated_at is not None
    escalation = open_task(case, "esc_overdue")
    assert escalation.role == "housing_center"
    supplier_record = db.session.scalar(db.select(SupplierRecord))
    assert supplier_record.supplier_id == w["supplier"].id and supplier_record.points < 0
    credit = db.session.scalar(db.select(CreditRecord))
    assert credit.enterprise_id == w["enterprise"].id and credit.kind == "device_repair_overdue" and credit.points < 0
    assert open_task(case, "repair") is not None  # the repair is still owed

    center = login_as("housing_center")
    assert "超过 24 小时" in center.get("/inbox").get_data(as_text=True)
    act(center, escalation, note="约谈供应商，限当日修复。")
    supplier = login_as("device_supplier", org=w["supplier"])
    act(supplier, open_task(case, "repair"), repair_note="配件到货后更换。")
    control(platform, "recover", serial="SN-ELV-1")
    assert control(platform, "flush")["sent"] == 1 and platform_state(platform)["refused"] == []
    case = db.session.get(RepairCase, case.id)
    assert case.status == "closed" and case.overdue
    assert db.session.get(ProcessInstance, case.instance_id).status == "completed"
    assert db.session.scalar(db.select(db.func.count(SupplierRecord.id))) == 1  # recorded once
    assert db.session.scalar(db.select(db.func.count(CreditRecord.id))) == 1
    page = login_as("device_supplier", org=w["supplier"]).get("/devices/records").get_data(as_text=True)
    assert "设备维修超过 24 小时" in page


def test_a_supplier_may_not_record_a_repair_for_another_suppliers_device(app, registered, platform, login_as):
    """Even holding the supplier role and the task's id, through the page or the API."""
    case = fault(platform)
    task = open_task(case)
    other = login_as("device_supplier", org=registered["other_supplier"])
    page = other.post(f"/tasks/{task.id}", data={"action": "complete", "repair_note": "已修复"})
    assert page.status_code in (403, 404)
    from app.services import tasks
    from app.services.devices import ensure_own_device
    from app.services.errors import Forbidden, NotFound
    with pytest.raises((Forbidden, NotFound)):
        tasks.complete(other.user, task.id, {"repair_note": "已修复"}, csrf=False)
    # The repair form's own check, behind the task's role-and-organisation check.
    with pytest.raises(Forbidden, match="不是贵公司的设备"):
        ensure_own_device(other.user, db.session.get(RepairCase, case.id))
    assert db.session.get(RepairCase, case.id).status == "open"
    assert login_as("device_supplier", org=registered["other_supplier"]).get(
        f"/devices/{device('SN-ELV-1').id}").status_code == 404
