"""The evaluation's complaint and device-repair feeders: a complaint found true at the
return visit deducts under the standard's complaint item (B3, 1 point each), a fault not
repaired within 24 hours deducts under the repair item (B2, 2 points each); each line is
traced to its complaint or repair case; an unverified complaint and a repair in time
deduct nothing, and another community's complaint stays there."""
from datetime import timedelta
from decimal import Decimal

from app.engine import calendar
from app.engine.deploy import deploy
from app.extensions import db
from app.models import CreditRecord, Device, Dispute, HumanTask, RepairCase
from app.services import devices, disputes, evaluation, tasks
from tests.evaluation.conftest import BPMN, DUE, TODAY, YEAR, evaluation_of, score_everything
from tests.html_tables import table_rows
from workers import engine as engine_jobs


def task_of(dispute_id, spec_id):
    dispute = db.session.get(Dispute, dispute_id)
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == dispute.instance_id,
                                                        HumanTask.spec_id == spec_id, HumanTask.status == "open"))


def act(client, task, **data):
    response = client.post(f"/tasks/{task.id}", data={"action": "complete", **data}, follow_redirects=True)
    assert db.session.get(HumanTask, task.id).status == "completed", response.get_data(as_text=True)[-1500:]


def complaint(street, enterprise, community, content, *, verified):
    """Received at the street office, rectified by the enterprise, visited back."""
    street.post("/disputes/new", data={"category": "公共设施维修", "content": content, "community_id": community.id})
    dispute_id = db.session.scalar(db.select(Dispute.id).where(Dispute.content == content))
    act(street, task_of(dispute_id, "dispatch"), handling="rectify", rectify_days="3", note="限期整改")
    act(enterprise, task_of(dispute_id, "rectify"), measures="已整改。")
    act(street, task_of(dispute_id, "return_visit"), satisfaction="3", visit_note="电话回访",
        **({"verified": "y"} if verified else {}))
    return db.session.get(Dispute, dispute_id)


def late_and_timely_repairs(world, scorers, factory):
    """Two elevator faults at 世纪华庭 through the device_repair process: one repaired in
    time, one not repaired within 24 hours (the timer job escalates it)."""
    deploy("device_repair", (BPMN / "device_repair.bpmn").read_text(encoding="utf-8"))
    supplier = factory.supplier()
    center = scorers["housing_center"].user
    shiji = world["communities"]["shiji"]
    made = [devices.register_device(center, {"supplier_id": supplier.id, "community_id": shiji.id, "kind": "elevator",
                                             "serial": serial, "installed_on": "2026-01-10"})
            for serial in ("SN-ELV-LATE", "SN-ELV-OK")]
    at = TODAY - timedelta(days=20)
    calendar.set_clock(at)
    try:
        for device in made:
            devices.fault(device, "elevator_fault", at, f"EV-{device.serial}")
        db.session.commit()  # the repair processes start in a job after the commit
        timely = db.session.scalar(db.select(RepairCase).where(RepairCase.device_id == made[1].id))
        repair = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == timely.instance_id,
                                                              HumanTask.spec_id == "repair"))
        calendar.set_clock(at + timedelta(hours=3))
        tasks.complete(factory.user("device_supplier", org=supplier), repair.id, {"repair_note": "更换控制板。"},
                       csrf=False)
        devices.healthy(db.session.get(Device, made[1].id), at + timedelta(hours=3))
        db.session.commit()
        calendar.set_clock(at + timedelta(hours=24, minutes=1))
        assert engine_jobs.tick()["timers"] == 1
    finally:
        calendar.set_clock(TODAY)
    late = db.session.scalar(db.select(RepairCase).where(RepairCase.device_id == made[0].id))
    timely = db.session.get(RepairCase, timely.id)
    assert late.overdue and not timely.overdue and timely.status == "closed"
    return late


def test_verified_complaints_and_late_repairs_feed_the_total(app, world, scorers, login_as, factory):
    deploy("dispute_mediation", (BPMN / "dispute_mediation.bpmn").read_text(encoding="utf-8"))
    shiji, xincheng = world["communities"]["shiji"], world["communities"]["xincheng"]
    street = scorers["street_office:qianzhou"]
    enterprise = login_as("enterprise", org=world["enterprises"]["qianyuan"])
    verified = complaint(street, enterprise, shiji, "3 栋电梯停运一周", verified=True)
    complaint(street, enterprise, shiji, "楼道灯不亮", verified=False)
    elsewhere = complaint(street, enterprise, xincheng, "车库积水", verified=True)
    assert db.session.scalar(db.select(db.func.count(CreditRecord.id)).where(CreditRecord.kind == "complaint")) == 2
    late = late_and_timely_repairs(world, scorers, factory)

    evaluation.open_year(scorers["housing_center"].user, YEAR, DUE)
    score_everything(world, scorers, {})  # every department gives full marks

    ev = evaluation_of(shiji)
    inputs = [line for line in ev.breakdown["lines"] if line["kind"] == "input"]
    assert [(x["item_code"], x["points"], x["source"], x["source_id"]) for x in inputs] == [
        ("B3", str(disputes.COMPLAINT_POINTS), "complaint", verified.id),
        ("B2", "-2.00", "repair_case", late.id)]
    assert ev.total == Decimal("97.00")
    assert evaluation.item_points(ev, "B3") == Decimal("9.00") and evaluation.item_points(ev, "B2") == Decimal("8.00")
    other = evaluation_of(xincheng)
    assert other.total == Decimal("99.00")
    assert [x["source_id"] for x in other.breakdown["lines"] if x["kind"] == "input"] == [elsewhere.id]

    # The breakdown shows each line under its item, traced to the complaint and the device.
    rows = table_rows(scorers["housing_center"].get(f"/evaluation/{ev.id}").get_data(as_text=True), "breakdown")
    text = "\n".join(" ".join(row) for row in rows)
    assert "投诉处理 · " in text and "核实投诉：公共设施维修（街道办事处受理）" in text
    assert "设备维修 · " in text and "SN-ELV-LATE 故障超过 24 小时未修复" in text and "SN-ELV-OK" not in text
    b3 = next(row for row in rows if row and row[0].startswith("B3"))
    assert b3[-1] == "9.00"  # the item's subtotal: 10 scored, 1 deducted
