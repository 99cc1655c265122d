"""A small city for the dashboards, the browser walk and the annual report: escrow money
with a disbursement, a year-end release and cut and a pending bank instruction; complaints
of several categories and months at several stages of their case; emergency takeovers in
two streets; evaluation results with stars and grades; devices with faults and repairs
(one late). Everything goes through the services and the processes, except that evaluation
totals are set as the departments' scoring would leave them (stars and grades then come
from the real decision tables)."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from app.engine import runtime
from app.engine.calendar import SHANGHAI, now
from app.engine.deploy import deploy
from app.extensions import db
from app.models import Device, DeviceStatusPeriod, Evaluation, HumanTask, LedgerTxn, RepairCase
from app.services import device_events, devices, disputes, escrow, evaluation, scoring, takeover
from tests.escrow.conftest import (approve_a_disbursement, bank_balance, bank_url, deposit,  # noqa: F401 (fixtures)
                                   processes, setup)

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def _read(name):
    return (BPMN / name).read_text(encoding="utf-8")


def open_task(instance_id, spec_id=None) -> HumanTask | None:
    query = db.select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
    if spec_id:
        query = query.where(HumanTask.spec_id == spec_id)
    return db.session.scalar(query.order_by(HumanTask.id))


def _deploy_more():
    for key in ("dispute_mediation", "emergency_takeover", "year_end_settlement", "device_repair"):
        deploy(key, _read(f"{key}.bpmn"))
    deploy("evaluation_rating", _read("evaluation_rating.bpmn"),
           {"star_rating.dmn": _read("star_rating.dmn"), "community_grade.dmn": _read("community_grade.dmn")})


def _complaints(s, factory):
    """Five hotline work orders over three months: two left with a street office, one at the
    enterprise's rectification, one unmatched and overdue at the center's triage."""
    local = now().astimezone(SHANGHAI)
    deadline = (local + timedelta(days=10)).isoformat()
    orders = [("GD-1", "世纪华庭 3 栋", "公共设施维修", local - timedelta(days=62)),
              ("GD-2", "世纪华庭 5 栋", "物业收费", local - timedelta(days=31)),
              ("GD-3", "世纪华庭 1 栋", "公共设施维修", local),
              ("GD-4", "峒河湾 2 栋", "环境卫生", local),
              ("GD-5", "吉首市人民路 12 号", "环境卫生", local)]
    made = {}
    for number, address, category, at in orders:
        dispute, _created = disputes.receive_work_order({
            "work_order_no": number, "received_at": at.isoformat(), "caller_name": "李女士",
            "caller_phone": "13874301234", "address": f"吉首市{address}", "category": category,
            "content": f"{address}：{category}问题，请物业处理。", "deadline": deadline})
        made[number] = dispute
    street_user = factory.user("street_office", org=s["community"].street_office)
    task = open_task(made["GD-2"].instance_id, "dispatch")
    runtime.complete_task(task.id, {"handling": "rectify", "rectify_days": 3, "mediator_id": 0, "urgent": False,
                                    "note": "责成企业限期整改"}, street_user)
    triage = open_task(made["GD-5"].instance_id, "triage")
    triage.due_at = now() - timedelta(days=2)
    db.session.commit()
    return made


def _takeovers(s, factory):
    """A community left without service in each street: two takeovers being proposed."""
    mine = factory.community(street_office=s["community"].street_office, name="民族花园")
    theirs = factory.community(street_office=s["far"].street_office, name="峒河小区")
    made = []
    for community in (mine, theirs):
        user = factory.user("street_office", org=community.street_office)
        made.append(takeover.open_takeover(user, {"community_id": community.id, "cause": "withdrew",
                                                  "situation": "原物业企业已撤离，垃圾无人清运。"}))
    return made


def _evaluations(s):
    """This year's results: 世纪华庭 92.50 (grade A; 乾元物业 4 stars), 峒河湾 78.00 (grade C;
    峒河物业 2 stars)."""
    year = now().astimezone(SHANGHAI).year
    standard = scoring.seed_default(year)
    db.session.flush()
    rows = []
    for enterprise, community, total in ((s["enterprise"], s["community"], "92.50"), (s["other"], s["far"], "78.00")):
        ev = Evaluation(year=year, standard_id=standard.id, enterprise_id=enterprise.id, community_id=community.id,
                        status="final", scoring_due=now().astimezone(SHANGHAI).date(), total=Decimal(total))
        db.session.add(ev)
        db.session.flush()
        evaluation.rate(ev)
        rows.append(ev)
    for ev in rows:  # final: the ratings are in force
        evaluation.apply_rating(ev)
    db.session.commit()
    return rows


def _year_end(s, factory):
    """世纪华庭's year-end settlement with its score 92.50: 46 250.00 released, 3 750.00 cut to
    the maintenance fund by the owners' committee's decision."""
    instance = escrow.start_year_end(s["account"].id, now().astimezone(SHANGHAI).year, "92.50", s["center"])
    committee = factory.user("owners_committee", org=factory.committee(s["community"]))
    runtime.complete_task(open_task(instance.id, "decide_cut").id, {
        "destination": "maintenance_fund", "resolution": "业主大会决议：扣减资金存入维修资金统筹账户", "to_account": "",
        "to_name": ""}, committee)


def _devices(s, factory):
    """Three devices: an elevator repaired 24 h 30 min after its fault (late), an access
    reader repaired within the hour, a camera still faulty; then the daily summaries."""
    supplier, other_supplier = factory.supplier(), factory.supplier()
    supplier.name, other_supplier.name = "湘西智联科技有限公司", "长沙安防设备有限公司"
    db.session.commit()
    t = datetime.now(timezone.utc)
    installed = t - timedelta(days=3)
    made = {}
    for serial, kind, owner, community in (("SN-ELV-1", "elevator", supplier, s["community"]),
                                           ("SN-ACC-1", "access", supplier, s["community"]),
                                           ("SN-CAM-1", "video", other_supplier, s["far"])):
        made[serial] = devices.register_device(s["center"], {
            "supplier_id": owner.id, "community_id": community.id, "kind": kind, "serial": serial,
            "model": "ZL-2000", "location": "1 栋", "installed_on": installed.astimezone(SHANGHAI).date()})
        made[serial].created_at = made[serial].status_since = installed  # installed three days ago
    db.session.execute(db.update(DeviceStatusPeriod).values(started_at=installed))
    db.session.commit()

    def push(*events):
        device_events.receive_push({"events": [
            {"event_id": f"S-{serial}-{kind}-{at.timestamp()}", "device_serial": serial, "type": kind,
             "occurred_at": at.isoformat(), "data": {"health": "ok"} if kind == "heartbeat" else {}}
            for serial, kind, at in events]})
    push(("SN-ELV-1", "heartbeat", t - timedelta(hours=26)), ("SN-ELV-1", "elevator_fault", t - timedelta(hours=25)),
         ("SN-ACC-1", "heartbeat", t - timedelta(hours=3)), ("SN-ACC-1", "access_fault", t - timedelta(hours=2)),
         ("SN-CAM-1", "heartbeat", t - timedelta(hours=2)), ("SN-CAM-1", "camera_offline", t - timedelta(hours=1)))
    push(("SN-ELV-1", "recovered", t - timedelta(minutes=30)), ("SN-ACC-1", "recovered", t - timedelta(hours=1)))
    fixer = factory.user("device_supplier", org=supplier)
    for serial in ("SN-ELV-1", "SN-ACC-1"):
        case = db.session.scalar(db.select(RepairCase).where(RepairCase.device_id == made[serial].id))
        runtime.complete_task(open_task(case.instance_id, "repair").id,
                              {"repair_note": "更换主板，试运行正常。", "parts": "主板"}, fixer)
    device_events.summarise_days()
    return {"supplier": supplier, "other_supplier": other_supplier,
            "devices": {serial: db.session.get(Device, d.id) for serial, d in made.items()}}


@pytest.fixture
def scene(setup, bank_url, factory):
    """世纪华庭 (乾元物业, bank A) has 180 000.00 paid in (earlier in the year), 130 000.00
    disbursed this quarter, then its year-end settlement; 峒河湾 (峒河物业, bank B) has
    20 000.00 paid in and its disbursement approved, the instruction still pending at the
    bank. Plus complaints, takeovers, evaluation results and devices (see above)."""
    _deploy_more()
    approve_a_disbursement(setup, bank_url, factory)
    paid_in = db.session.scalar(db.select(LedgerTxn).where(LedgerTxn.kind == "owner_payment"))
    quarter_start = now().astimezone(SHANGHAI).replace(month=3 * ((now().astimezone(SHANGHAI).month - 1) // 3) + 1,
                                                       day=1, hour=0, minute=0, second=0, microsecond=0)
    if (quarter_start - timedelta(days=20)).year == quarter_start.year:  # paid last quarter, when that is this year
        paid_in.booked_at = quarter_start - timedelta(days=20)
        db.session.commit()

    other = factory.enterprise(name="峒河物业")
    far = factory.community(enterprise=other, name="峒河湾", fee="200000.00")
    other_bank = factory.bank()
    account = escrow.open_account({"community_id": far.id, "bank_id": other_bank.id,
                                   "payee_account_no": "6222021234567890128", "payee_name": "峒河物业"},
                                  setup["center"])
    deposit(bank_url, account.account_no, "20000.00")
    escrow.pull_statement(account)
    year, quarter = escrow.current_quarter()
    req = escrow.request_disbursement(factory.user("enterprise", org=other), account.id, year, min(quarter, 3))
    requests.post(f"{bank_url}/_control/auto-settle", json={"on": False}, timeout=5)
    runtime.complete_task(open_task(req.instance_id, "review").id, {"decision": "approve", "comment": ""},
                          setup["center"])
    requests.post(f"{bank_url}/_control/auto-settle", json={"on": True}, timeout=5)

    s = {**setup, "other": other, "far": far, "other_bank": other_bank, "far_account": account,
         "far_request": req}
    _year_end(s, factory)
    s["disputes"] = _complaints(s, factory)
    s["takeovers"] = _takeovers(s, factory)
    s["evaluations"] = _evaluations(s)
    s.update(_devices(s, factory))
    db.session.expire_all()
    return s
