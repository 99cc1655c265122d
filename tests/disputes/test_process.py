"""The dispute_mediation process end to end: rectification, a mediation agreement after two
sessions, a court referral, return visits and hotline replies, the refusals the issue
names, and escalation of overdue steps (the street office head, then the housing center)
when the timer job runs."""
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from app.engine import calendar
from app.extensions import db
from app.models import (Attachment, CreditRecord, Dispute, HotlineReply, HumanTask, MediationSession, Notification,
                        ProcessInstance)
from app.services import attachments
from tests.disputes.conftest import open_task, post_signed, work_order
from tests.html_tables import table_rows
from workers import engine as engine_jobs

SHANGHAI = ZoneInfo("Asia/Shanghai")


def act(client, task, **data):
    return client.post(f"/tasks/{task.id}", data={"action": "complete", **data}, follow_redirects=True)


def receive(app, client, number, **changes):
    response, _ = post_signed(client, app, work_order(number, **changes))
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


def opened_on(dispute_id):
    """The Shanghai date the case opened: what the server compares a session's date with."""
    return db.session.get(Dispute, dispute_id).created_at.astimezone(SHANGHAI).date()


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
    opened = opened_on(dispute_id)

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
    first = session(mediator, dispute_id, opened, record="第一次调解：双方各执一词。")
    assert first.status_code == 200 and "调解记录已保存" in first.get_data(as_text=True)
    second = session(mediator, dispute_id, opened + timedelta(days=2), record="第二次调解：达成一致。")
    assert second.status_code == 200 and "调解记录已保存" in second.get_data(as_text=True)
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
    text = "".join(subprocess.run(["pdftotext", attachments.path_of(pdf), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())  # the words, without pdftotext's line breaks
    enterprise = world["enterprise"]
    today = calendar.now().astimezone(SHANGHAI).date()
    for expected in ("人民调解协议书", "乾州街道物业纠纷人民调解委员会", "12345工单编号：GD-MED-1",
                     "李女士，联系电话138****1234",  # the parties (a table: pdftotext interleaves its columns)
                     f"{enterprise.name}（统一社会信用代码", enterprise.uscc, "小区3栋电梯停运一周，物业未维修。",
                     "在乾州街道人民调解室召开调解会", "第一次调解：双方各执一词。", "第二次调解：达成一致。",
                     "一、乾元物业于5月15日前修复3栋电梯。", "二、减免李女士当月物业费50.00元。",
                     "物业公司5月15日前履行，街道监督。", "调解员（签名）：张调解",
                     f"{today.year}年{today.month}月{today.day}日"):  # dated in Shanghai
        assert expected in text, expected
    assert "13874301234" not in text  # the caller's full number is never kept
    assert mediator.get(f"/attachments/{pdf.id}").status_code == 200
    act(street, open_task(dispute_id, "return_visit"), satisfaction="5", visit_note="回访满意")
    dispute = db.session.get(Dispute, dispute_id)
    assert dispute.status == "closed" and dispute.verified is False
    assert db.session.scalar(db.select(db.func.count(CreditRecord.id))) == 0  # not verified: no bad record
    assert "达成调解协议" in hotline_replies(hotline)["GD-MED-1"]["content"]
    caseload = mediator.get("/disputes/").get_data(as_text=True)
    assert "GD-MED-1" in caseload


def test_only_the_mediator_the_dispute_was_given_to_is_told_of_the_mediation(app, client, world, login_as,
                                                                              factory, hotline):
    from app.services import disputes
    colleague = factory.user("mediator", username="mediator_qz2")  # the same street's committee
    db.session.commit()
    disputes.register_mediator(colleague.id, world["street"].id)
    dispute_id, _ = start_mediation(app, client, world, login_as, "GD-MED-TOLD")
    task = open_task(dispute_id, "mediate")

    def told(user):
        return db.session.scalars(db.select(Notification.title).where(Notification.user_id == user.id)).all()
    assert told(world["mediator"]) == [f"新任务：{task.name}"]
    # Neither sees the task in the inbox, so neither is told of it (before, every mediator was).
    assert told(colleague) == [] and told(world["stranger"]) == []


def test_mediation_fails_and_the_parties_are_referred_to_the_shared_court(app, client, world, login_as, hotline):
    dispute_id, street = start_mediation(app, client, world, login_as, "GD-COURT-1")
    mediator = app.test_client()
    mediator.post("/login", data={"username": "mediator_qz", "password": "Secret-pass-123"})
    held = session(mediator, dispute_id, opened_on(dispute_id), record="物业坚持不减免，业主坚持索赔。")
    assert held.status_code == 200 and "调解记录已保存" in held.get_data(as_text=True)
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


def inbox(client, tab="todo") -> str:
    """The inbox table's text in one tab (not the filter bar, which names every task)."""
    rows = table_rows(client.get(f"/inbox?tab={tab}").get_data(as_text=True), "inbox-table")
    return "\n".join(" ".join(row) for row in rows)


def escalation_world(world, login_as):
    """The street's registered head and one of its ordinary staff."""
    from app.services import takeover
    head = login_as("street_office", org=world["street"])
    takeover.register_head(head.user.id, world["street"].id)
    return head, login_as("street_office", org=world["street"])


def test_an_overdue_dispatch_escalates_to_the_street_head_then_the_housing_center(app, client, world, login_as):
    """The timer job (workers.engine.tick) escalates: first to the street office's head only,
    then to the housing center; the overdue step stays open."""
    head, staff = escalation_world(world, login_as)
    calendar.set_clock(datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI))  # Wednesday after the May Day holiday
    try:
        dispute_id = receive(app, client, "GD-LATE-1")
        task = open_task(dispute_id, "dispatch")
        assert task.due_at == datetime(2026, 5, 7, 9, 0, tzinfo=SHANGHAI)  # one working day
        assert engine_jobs.tick()["timers"] == 0
        calendar.set_clock(datetime(2026, 5, 7, 9, 30, tzinfo=SHANGHAI))
        assert engine_jobs.tick()["timers"] == 1
        street_esc = open_task(dispute_id, "esc_dispatch_street")
        assert street_esc.role == "street_office" and street_esc.street_office_id == world["street"].id
        assert street_esc.claimed_by_id == head.user.id  # the head's, not the whole street office's
        assert open_task(dispute_id, "dispatch") is not None  # the step stays open
        assert open_task(dispute_id, "esc_dispatch_center") is None

        # Ordinary staff neither get it in their inbox nor may act on it; the head does, and is told.
        assert "督办：分办超期" not in inbox(staff) + inbox(staff, "mine")
        refused = act(staff, street_esc, note="我来督办")
        assert "已由" in refused.get_data(as_text=True) and "签收" in refused.get_data(as_text=True)
        assert db.session.get(HumanTask, street_esc.id).status == "open"
        told = lambda user: db.session.scalars(db.select(Notification.title).where(  # noqa: E731
            Notification.user_id == user.id)).all()
        assert "新任务：督办：分办超期（街道负责人）" in told(head.user)
        assert not [t for t in told(staff.user) if "督办" in t]
        assert "督办：分办超期（街道负责人）" in inbox(head, "mine")
        done = act(head, street_esc, note="请当日完成分办")
        assert "请填写督办意见" not in done.get_data(as_text=True)
        assert db.session.get(HumanTask, street_esc.id).status == "completed"

        calendar.set_clock(datetime(2026, 5, 8, 9, 30, tzinfo=SHANGHAI))
        assert engine_jobs.tick()["timers"] == 1
        center_esc = open_task(dispute_id, "esc_dispatch_center")
        assert center_esc.role == "housing_center" and center_esc.claimed_by_id is None
        assert "督办：分办超期（住保中心）" in inbox(login_as("housing_center"))
        assert "督办：分办超期（住保中心）" not in inbox(head) + inbox(head, "mine")
    finally:
        calendar.set_clock(None)


def test_an_overdue_rectification_escalates_and_the_closed_case_ends_what_is_left(app, client, world, login_as,
                                                                                   hotline):
    """The enterprise misses its rectification deadline: the timer job escalates to the head,
    3 working days later to the center. When the case closes, an escalation nobody handled
    is cancelled with it. A street without a registered head gets it in its lane."""
    staff = login_as("street_office", org=world["street"])
    calendar.set_clock(datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI))
    try:
        dispute_id = receive(app, client, "GD-LATE-2")
        act(staff, open_task(dispute_id, "dispatch"), handling="rectify", rectify_days="2", note="两个工作日内修复")
        rectify = open_task(dispute_id, "rectify")
        assert rectify.due_at == datetime(2026, 5, 8, 9, 0, tzinfo=SHANGHAI)
        calendar.set_clock(datetime(2026, 5, 7, 18, 0, tzinfo=SHANGHAI))
        engine_jobs.tick()
        assert open_task(dispute_id, "esc_rectify_street") is None
        calendar.set_clock(datetime(2026, 5, 8, 9, 1, tzinfo=SHANGHAI))
        assert engine_jobs.tick()["timers"] == 1
        street_esc = open_task(dispute_id, "esc_rectify_street")
        assert street_esc.claimed_by_id is None and "督办：整改超期（街道负责人）" in inbox(staff)  # no head: the lane
        calendar.set_clock(datetime(2026, 5, 11, 18, 0, tzinfo=SHANGHAI))
        engine_jobs.tick()
        assert open_task(dispute_id, "esc_rectify_center") is None
        calendar.set_clock(datetime(2026, 5, 12, 9, 1, tzinfo=SHANGHAI))  # 2 + 3 working days (Sat 9 May is one)
        assert engine_jobs.tick()["timers"] == 1
        assert open_task(dispute_id, "esc_rectify_center").role == "housing_center"
        assert open_task(dispute_id, "rectify").id == rectify.id  # still the enterprise's to do

        enterprise = login_as("enterprise", org=world["enterprise"])
        act(enterprise, rectify, measures="已修复电梯。")
        act(staff, open_task(dispute_id, "return_visit"), satisfaction="4", visit_note="回访满意")
        dispute = db.session.get(Dispute, dispute_id)
        assert dispute.status == "closed"
        assert db.session.get(ProcessInstance, dispute.instance_id).status == "completed"
        left = {t.spec_id: t.status for t in db.session.scalars(db.select(HumanTask).where(
            HumanTask.instance_id == dispute.instance_id, HumanTask.spec_id.like("esc_%")))}
        assert left == {"esc_rectify_street": "cancelled", "esc_rectify_center": "cancelled"}
    finally:
        calendar.set_clock(None)


def test_a_diagram_naming_an_unregistered_assignee_is_refused_at_deploy(app):
    from app.engine.linter import lint
    from tests.disputes.conftest import BPMN
    xml = (BPMN / "dispute_mediation.bpmn").read_text(encoding="utf-8")
    assert not lint(xml)
    problems = lint(xml.replace('value="disputes.street_head"', 'value="disputes.nobody"', 1))
    assert problems == ["用户任务 “督办：分办超期（街道负责人）” 的办理人规则“disputes.nobody”未注册。"]
