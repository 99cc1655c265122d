"""The dispute_mediation process end to end: rectification, a mediation agreement after two
sessions, a court referral, return visits and hotline replies, the refusals the issue
names, and escalation of an overdue step when the timer job runs."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from app.engine import calendar, runtime
from app.extensions import db
from app.models import Attachment, CreditRecord, Dispute, HotlineReply, HumanTask, MediationSession, ProcessInstance
from app.services import attachments
from tests.disputes.conftest import open_task, post_signed, work_order

SHANGHAI = ZoneInfo("Asia/Shanghai")


def act(client, task, **data):
    return client.post(f"/tasks/{task.id}", data={"action": "complete", **data}, follow_redirects=True)


def receive(app, client, number, **changes):
    deadline = (datetime.now(SHANGHAI) + timedelta(days=10)).isoformat()
    response, _ = post_signed(client, app, work_order(number, deadline=deadline, **changes))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["dispute_id"]


def hotline_replies(hotline):
    return requests.get(f"{hotline}/_control/state", timeout=5).json()["replies"]


def start_mediation(app, client, world, login_as, number):
    dispute_id = receive(app, client, number)
    street = login_as("street_office", org=world["street"])
    form = street.get(f"/tasks/{open_task(dispute_id).id}").get_data(as_text=True)
    assert "张调解" in form and "mediator_dh" not in form  # only this street's committee
    no_mediator = act(street, open_task(dispute_id), handling="mediate")
    assert "启动调解须指定调解员" in no_mediator.get_data(as_text=True)
    act(street, open_task(dispute_id), handling="mediate", mediator_id=world["mediator"].id)
    dispute = db.session.get(Dispute, dispute_id)
    assert dispute.status == "mediation" and dispute.mediator_id == world["mediator"].id
    return dispute_id, street


def session(client, dispute_id, held_on, **data):
    return client.post(f"/disputes/{dispute_id}/sessions", data={
        "held_on": held_on.isoformat(), "place": "乾州街道人民调解室", "parties": "李女士；乾元物业项目经理",
        "record": "双方陈述意见。", **data}, follow_redirects=True)


def test_resolved_by_rectification_with_return_visit_credit_record_and_hotline_reply(app, client, world, login_as,
                                                                                      hotline):
    dispute_id = receive(app, client, "GD-RECT-1")
    street = login_as("street_office", org=world["street"])
    assert "GD-RECT-1" in street.get("/inbox").get_data(as_text=True)
    assert login_as("street_office", org=world["other_street"]).get(f"/disputes/{dispute_id}").status_code == 404
    act(street, open_task(dispute_id), handling="rectify", rectify_days="3", note="责成企业 3 个工作日内修复电梯")
    task = open_task(dispute_id)
    assert task.spec_id == "rectify" and task.enterprise_id == world["enterprise"].id
    assert task.due_at is not None

    other = login_as("enterprise", org=world["other_enterprise"])
    refused = other.post(f"/tasks/{task.id}", data={"action": "complete", "measures": "不是我们的小区"})
    assert refused.status_code in (403, 404)
    assert other.get(f"/disputes/{dispute_id}").status_code == 404
    enterprise = login_as("enterprise", org=world["enterprise"])
    assert "电梯停运" in enterprise.get(f"/disputes/{dispute_id}").get_data(as_text=True)
    empty = act(enterprise, task)
    assert "请填写整改措施及结果" in empty.get_data(as_text=True)
    act(enterprise, task, measures="已更换电梯主板，5 月 8 日恢复运行。")

    visit = open_task(dispute_id)
    assert visit.spec_id == "return_visit"
    no_score = act(street, visit, visit_note="电话回访")
    assert "请选择回访满意度" in no_score.get_data(as_text=True)
    act(street, visit, satisfaction="4", verified="y", visit_note="电话回访，业主表示电梯已恢复。")

    dispute = db.session.get(Dispute, dispute_id)
    assert dispute.status == "closed" and dispute.outcome == "rectified" and dispute.satisfaction == 4
    assert db.session.get(ProcessInstance, dispute.instance_id).status == "completed"
    credit = db.session.scalar(db.select(CreditRecord).where(CreditRecord.enterprise_id == world["enterprise"].id))
    assert credit.kind == "complaint" and not credit.positive and credit.points < 0
    reply = db.session.scalar(db.select(HotlineReply).where(HotlineReply.dispute_id == dispute_id))
    assert reply.status == "sent" and reply.on_time is True and reply.receipt.startswith("HL-")
    sent = hotline_replies(hotline)["GD-RECT-1"]
    assert "企业整改解决" in sent["content"] and "4/5" in sent["content"] and sent["receipt"] == reply.receipt
    page = street.get(f"/disputes/{dispute_id}").get_data(as_text=True)
    assert "已办结" in page and reply.receipt in page


def test_mediation_agreement_after_two_sessions(app, client, world, login_as, hotline):
    dispute_id, street = start_mediation(app, client, world, login_as, "GD-MED-1")
    mediator = app.test_client()
    mediator.post("/login", data={"username": "mediator_qz", "password": "Secret-pass-123"})
    stranger = app.test_client()
    stranger.post("/login", data={"username": "mediator_dh", "password": "Secret-pass-123"})
    opened = db.session.get(Dispute, dispute_id).created_at.astimezone(SHANGHAI).date()

    # Another street's mediator: cannot see the case, record a session, or act on the task.
    assert stranger.get(f"/disputes/{dispute_id}").status_code == 404
    assert session(stranger, dispute_id, opened).status_code == 404
    task = open_task(dispute_id, "mediate")
    refused = act(stranger, task, outcome="agreement", terms="x", performance="y")
    assert refused.status_code == 404  # another street's case: not even its task is shown
    assert db.session.get(HumanTask, task.id).status == "open"

    early = session(mediator, dispute_id, opened - timedelta(days=1))
    assert early.status_code == 422 and "不能早于立案日期" in early.get_data(as_text=True)
    no_sessions = act(mediator, task, outcome="agreement", terms="物业修复电梯", performance="5 日内")
    assert "请先记录至少一次调解会" in no_sessions.get_data(as_text=True)
    assert session(mediator, dispute_id, opened, record="第一次调解：双方各执一词。").status_code == 200
    assert session(mediator, dispute_id, opened + timedelta(days=2), record="第二次调解：达成一致。").status_code == 200
    assert db.session.scalar(db.select(db.func.count(MediationSession.id))) == 2
    page = mediator.get(f"/disputes/{dispute_id}").get_data(as_text=True)
    assert "第一次调解" in page and "第二次调解" in page

    no_outcome = act(mediator, task)
    assert "案件不能无结果结束" in no_outcome.get_data(as_text=True)
    no_terms = act(mediator, task, outcome="agreement")
    assert "达成协议须写明协议内容" in no_terms.get_data(as_text=True)
    assert db.session.get(HumanTask, task.id).status == "open"
    act(mediator, task, outcome="agreement", terms="一、乾元物业于 5 月 15 日前修复 3 栋电梯。\n二、减免李女士当月物业费 50.00 元。",
        performance="物业公司 5 月 15 日前履行，街道监督。")

    dispute = db.session.get(Dispute, dispute_id)
    assert dispute.outcome == "agreement" and dispute.status == "return_visit"
    pdf = db.session.get(Attachment, dispute.agreement_attachment_id)
    with open(attachments.path_of(pdf), "rb") as f:
        assert f.read(4) == b"%PDF"
    assert "人民调解协议书" in pdf.filename
    assert mediator.get(f"/attachments/{pdf.id}").status_code == 200
    act(street, open_task(dispute_id, "return_visit"), satisfaction="5", visit_note="回访满意")
    dispute = db.session.get(Dispute, dispute_id)
    assert dispute.status == "closed" and dispute.verified is False
    assert db.session.scalar(db.select(db.func.count(CreditRecord.id))) == 0  # not verified: no bad record
    assert "达成调解协议" in hotline_replies(hotline)["GD-MED-1"]["content"]
    caseload = mediator.get("/disputes/").get_data(as_text=True)
    assert "GD-MED-1" in caseload


def test_mediation_fails_and_the_parties_are_referred_to_the_shared_court(app, client, world, login_as, hotline):
    dispute_id, street = start_mediation(app, client, world, login_as, "GD-COURT-1")
    mediator = app.test_client()
    mediator.post("/login", data={"username": "mediator_qz", "password": "Secret-pass-123"})
    session(mediator, dispute_id, date.today(), record="物业坚持不减免，业主坚持索赔。")
    task = open_task(dispute_id, "mediate")
    no_channel = act(mediator, task, outcome="failed", failure_reason="双方分歧较大")
    assert "调解不成须告知当事人的其他途径" in no_channel.get_data(as_text=True)
    act(mediator, task, outcome="failed", failure_reason="双方分歧较大", referral="shared_court")
    dispute = db.session.get(Dispute, dispute_id)
    assert dispute.outcome == "referred" and dispute.referral_channel == "shared_court"
    act(street, open_task(dispute_id, "return_visit"), satisfaction="3", verified="y", visit_note="已告知共享法庭")
    assert db.session.get(Dispute, dispute_id).status == "closed"
    content = hotline_replies(hotline)["GD-COURT-1"]["content"]
    assert "共享法庭" in content and "双方分歧较大" in content


def test_an_overdue_dispatch_escalates_to_the_street_head_then_the_housing_center(app, client, world, login_as):
    calendar.set_clock(datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI))  # Wednesday after the May Day holiday
    try:
        dispute_id = receive(app, client, "GD-LATE-1")
        task = open_task(dispute_id, "dispatch")
        assert task.due_at == datetime(2026, 5, 7, 9, 0, tzinfo=SHANGHAI)  # one working day
        assert runtime.advance_due_timers() == 0
        calendar.set_clock(datetime(2026, 5, 7, 9, 30, tzinfo=SHANGHAI))
        assert runtime.advance_due_timers() == 1
        street_esc = open_task(dispute_id, "esc_dispatch_street")
        assert street_esc.role == "street_office" and street_esc.street_office_id == world["street"].id
        assert open_task(dispute_id, "dispatch") is not None  # the step stays open
        assert open_task(dispute_id, "esc_dispatch_center") is None
        calendar.set_clock(datetime(2026, 5, 8, 9, 30, tzinfo=SHANGHAI))
        assert runtime.advance_due_timers() == 1
        assert open_task(dispute_id, "esc_dispatch_center").role == "housing_center"
        center = login_as("housing_center")
        inbox = center.get("/inbox").get_data(as_text=True)
        assert "督办：分办超期（住保中心）" in inbox
    finally:
        calendar.set_clock(None)
