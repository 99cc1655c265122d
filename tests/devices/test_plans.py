"""Smart-community build plans through the pages: the supplier's plan, the enterprise's
agreement, the bank's advance and repayment schedule, repayments in Decimal to the fen,
ownership moving to the enterprise when repaid; and early termination within the first
year (devices removed, the enterprise still supervised), refused after it."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import BuildPlan, Device, Enterprise, Repayment, RepaymentPayment
from app.services import device_plans


def today():
    """The server's date (Shanghai), not the machine's: they differ 16:00–24:00 UTC."""
    return now().astimezone(SHANGHAI).date()


@pytest.fixture
def parties(app, factory, login_as):
    enterprise = factory.enterprise(name="吉首市乾元物业服务有限公司")
    enterprise.under_supervision = True
    community = factory.community(enterprise=enterprise, name="世纪华庭")
    bank, other_bank = factory.bank(), factory.bank()
    supplier = factory.supplier()
    db.session.commit()
    return {"enterprise": enterprise, "community": community, "bank": bank, "supplier": supplier,
            "supplier_c": login_as("device_supplier", org=supplier),
            "enterprise_c": login_as("enterprise", org=enterprise),
            "bank_c": login_as("bank", org=bank),
            "other_enterprise_c": login_as("enterprise"), "other_bank_c": login_as("bank", org=other_bank),
            "other_supplier_c": login_as("device_supplier")}


def plan_form(p, **changes):
    data = {"community_id": p["community"].id, "bank_id": p["bank"].id, "title": "世纪华庭智慧小区一期",
            "description": "梯控 12 台、门禁 4 套、监控 20 路", "instalments": "12",
            "items-0-kind": "elevator", "items-0-model": "ZL-E200", "items-0-quantity": "12",
            "items-0-unit_price": "8500.00",
            "items-1-kind": "access", "items-1-model": "ZL-A10", "items-1-quantity": "4", "items-1-unit_price": "6200.50",
            "items-2-kind": "video", "items-2-model": "ZL-C4", "items-2-quantity": "20", "items-2-unit_price": "1499.99"}
    data.update(changes)
    return data


def propose(p, **changes):
    response = p["supplier_c"].post("/devices/plans/new", data=plan_form(p, **changes))
    return response


def agreed_and_advanced(p, advanced_on=None):
    assert propose(p).status_code == 302
    plan = db.session.scalar(db.select(BuildPlan))
    p["enterprise_c"].post(f"/devices/plans/{plan.id}/decide", data={"decision": "agree"})
    on = advanced_on or today()
    response = p["bank_c"].post(f"/devices/plans/{plan.id}/advance", data={"advanced_on": on.isoformat(),
                                                                           "reference": "ADV-0001"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.get(BuildPlan, plan.id)


def install(p, plan, serial, kind="elevator"):
    response = p["supplier_c"].post("/devices/new", data={
        "community_id": p["community"].id, "kind": kind, "serial": serial, "model": "ZL-E200", "location": "1 栋",
        "installed_on": today().isoformat(), "build_plan_id": plan.id})
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(db.select(Device).where(Device.serial == serial))


def pay(p, plan, amount, reference, paid_on=None):
    return p["bank_c"].post(f"/devices/plans/{plan.id}/payments", data={
        "amount": amount, "reference": reference, "paid_on": (paid_on or today()).isoformat()})


def test_bad_plans_are_refused_at_the_field(app, parties):
    p = parties
    no_items = propose(p, **{f"items-{i}-{k}": "" for i in range(3) for k in ("kind", "model", "quantity",
                                                                            "unit_price")})
    assert no_items.status_code == 422 and "请至少填写一项设备" in no_items.get_data(as_text=True)
    bad_price = propose(p, **{"items-0-unit_price": "12.345"})
    assert bad_price.status_code == 422 and "第 1 行：单价须大于 0，最多保留两位小数" in bad_price.get_data(as_text=True)
    no_kind = propose(p, **{"items-1-kind": ""})
    assert no_kind.status_code == 422 and "第 2 行：请选择设备类型" in no_kind.get_data(as_text=True)
    too_long = propose(p, instalments="121")
    assert too_long.status_code == 422 and "还款期数须在 1 到 120 个月之间" in too_long.get_data(as_text=True)
    assert p["enterprise_c"].get("/devices/plans/new").status_code == 403  # only suppliers draw up plans
    assert db.session.scalar(db.select(db.func.count(BuildPlan.id))) == 0


def test_plan_from_bank_advance_to_ownership_transfer(app, parties):
    p = parties
    assert propose(p).status_code == 302
    plan = db.session.scalar(db.select(BuildPlan))
    assert plan.cost == Decimal("12") * Decimal("8500.00") + 4 * Decimal("6200.50") + 20 * Decimal("1499.99")
    assert plan.cost == Decimal("156801.80") and plan.status == "proposed"

    # Strangers see nothing; only this plan's enterprise decides and only its bank advances.
    assert p["other_enterprise_c"].get(f"/devices/plans/{plan.id}").status_code == 404
    assert p["other_bank_c"].get(f"/devices/plans/{plan.id}").status_code == 404
    assert p["other_supplier_c"].get(f"/devices/plans/{plan.id}").status_code == 404
    assert p["other_enterprise_c"].post(f"/devices/plans/{plan.id}/decide",
                                        data={"decision": "agree"}).status_code == 404
    early = p["bank_c"].post(f"/devices/plans/{plan.id}/advance", data={"advanced_on": today().isoformat(),
                                                                        "reference": "ADV-0001"})
    assert early.status_code == 409 and "待物业企业确认" in early.get_data(as_text=True)
    assert "物业企业确认方案" in p["enterprise_c"].get(f"/devices/plans/{plan.id}").get_data(as_text=True)
    p["enterprise_c"].post(f"/devices/plans/{plan.id}/decide", data={"decision": "agree", "note": "同意"})
    assert db.session.get(BuildPlan, plan.id).status == "agreed"

    future = p["bank_c"].post(f"/devices/plans/{plan.id}/advance", data={
        "advanced_on": (today() + timedelta(days=3)).isoformat(), "reference": "ADV-0001"})
    assert future.status_code == 422 and "垫付日期不能晚于今天" in future.get_data(as_text=True)
    p["bank_c"].post(f"/devices/plans/{plan.id}/advance", data={"advanced_on": today().isoformat(),
                                                                "reference": "ADV-0001"})
    plan = db.session.get(BuildPlan, plan.id)
    assert plan.status == "advanced"
    amounts = [r.amount for r in plan.repayments]
    assert len(amounts) == 12 and sum(amounts) == plan.cost
    assert amounts[:11] == [Decimal("13066.81")] * 11 and amounts[11] == Decimal("13066.89")
    assert plan.repayments[0].due_on > today()

    elevator = install(p, plan, "SN-PLAN-E1")
    assert elevator.owner == "bank" and elevator.owner_bank_id == p["bank"].id
    page = p["enterprise_c"].get(f"/devices/{elevator.id}").get_data(as_text=True)
    assert "托管银行（建设资金未还清）" in page

    # Repayments: refused when wrong, booked once, instalments paid in order.
    assert p["enterprise_c"].post(f"/devices/plans/{plan.id}/payments", data={}).status_code == 403
    too_much = pay(p, plan, "156801.81", "REP-1")
    assert too_much.status_code == 422 and "超过未还余额 156801.80" in too_much.get_data(as_text=True)
    fractional = pay(p, plan, "100.001", "REP-1")
    assert fractional.status_code == 422 and "两位小数" in fractional.get_data(as_text=True)
    before = pay(p, plan, "100.00", "REP-1", paid_on=today() - timedelta(days=30))
    assert before.status_code == 422 and "不能早于垫付日期" in before.get_data(as_text=True)
    assert pay(p, plan, "20000.00", "REP-1").status_code == 302
    again = pay(p, plan, "20000.00", "REP-1")
    assert again.status_code == 422 and "已登记，不能重复入账" in again.get_data(as_text=True)
    plan = db.session.get(BuildPlan, plan.id)
    assert [r.status for r in plan.repayments[:2]] == ["paid", "due"]
    assert plan.repayments[1].paid == Decimal("20000.00") - Decimal("13066.81")
    assert device_plans.outstanding(plan) == Decimal("136801.80")

    assert pay(p, plan, "136801.80", "REP-2").status_code == 302
    plan = db.session.get(BuildPlan, plan.id)
    assert plan.status == "repaid" and plan.repaid_on == today()
    assert all(r.status == "paid" for r in plan.repayments)
    elevator = db.session.get(Device, elevator.id)
    assert elevator.owner == "enterprise" and elevator.owner_bank_id is None
    assert db.session.scalar(db.select(db.func.sum(RepaymentPayment.amount))) == plan.cost
    page = p["enterprise_c"].get(f"/devices/plans/{plan.id}").get_data(as_text=True)
    assert "已还清，设备归企业所有" in page and "156,801.80 / 0.00" in page


def test_early_termination_in_the_first_year(app, parties):
    p = parties
    plan = agreed_and_advanced(p)
    devices = [install(p, plan, "SN-T-1"), install(p, plan, "SN-T-2", "access")]
    assert pay(p, plan, "13066.81", "REP-T1").status_code == 302

    no_reason = p["enterprise_c"].post(f"/devices/plans/{plan.id}/terminate", data={"reason": ""})
    assert no_reason.status_code == 422 and "请填写终止理由" in no_reason.get_data(as_text=True)
    assert p["other_enterprise_c"].post(f"/devices/plans/{plan.id}/terminate",
                                        data={"reason": "x"}).status_code == 404
    p["enterprise_c"].post(f"/devices/plans/{plan.id}/terminate", data={"reason": "业主大会决定不再使用梯控。"})
    assert db.session.get(BuildPlan, plan.id).status == "termination_requested"

    refused = p["bank_c"].post(f"/devices/plans/{plan.id}/termination", data={"decision": "reject"})
    assert refused.status_code == 422 and "不同意须说明理由" in refused.get_data(as_text=True)
    p["bank_c"].post(f"/devices/plans/{plan.id}/termination", data={"decision": "agree", "note": "同意，安排拆除。"})
    plan = db.session.get(BuildPlan, plan.id)
    assert plan.status == "terminated" and plan.terminated_on == today()
    assert [r.status for r in plan.repayments] == ["paid"] + ["cancelled"] * 11
    assert all(db.session.get(Device, d.id).status == "retired" for d in devices)
    assert db.session.get(Enterprise, p["enterprise"].id).under_supervision is True  # still supervised
    page = p["enterprise_c"].get(f"/devices/plans/{plan.id}").get_data(as_text=True)
    assert "企业仍在住保中心监管之下" in page
    assert pay(p, plan, "100.00", "REP-T2").status_code == 409


def test_termination_refused_by_the_bank_or_after_a_year(app, parties, clock):
    p = parties
    plan = agreed_and_advanced(p)
    p["enterprise_c"].post(f"/devices/plans/{plan.id}/terminate", data={"reason": "资金紧张。"})
    p["bank_c"].post(f"/devices/plans/{plan.id}/termination", data={"decision": "reject", "note": "设备已投入使用。"})
    assert db.session.get(BuildPlan, plan.id).status == "advanced"

    clock(datetime.now(timezone.utc) + timedelta(days=367))
    late = p["enterprise_c"].post(f"/devices/plans/{plan.id}/terminate", data={"reason": "不用了。"})
    assert late.status_code == 422 and "只能在一年内申请终止" in late.get_data(as_text=True)
    assert db.session.get(BuildPlan, plan.id).status == "advanced"
    assert "申请终止智能设备建设" not in p["enterprise_c"].get(f"/devices/plans/{plan.id}").get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Repayment.id)).where(Repayment.status == "cancelled")) == 0
