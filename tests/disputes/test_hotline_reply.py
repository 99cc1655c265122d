"""The 12345 reply against the hotline's deadline: a work order still unanswered one working
day before it escalates to the housing center (through the timer job); a reply sent after
the deadline is recorded late and shown so; the reply callback is retried while the hotline
is down and delivered once when it is back (a real RQ worker and the sandbox hotline)."""
from datetime import datetime

import requests

from app.engine import calendar
from app.extensions import db
from app.models import Dispute, HotlineReply, HumanTask, InstanceEvent, ProcessInstance, ServiceCall
from tests.disputes.conftest import open_task
from tests.disputes.test_process import act, hotline_replies, inbox, receive
from tests.engine.test_external_worker import run_worker
from workers import engine as engine_jobs

SHANGHAI = calendar.SHANGHAI


def hotline_calls(hotline, number):
    calls = requests.get(f"{hotline}/_control/state", timeout=5).json()["calls"]
    return [c["status"] for c in calls if c["work_order_no"] == number]


def rectified(world, login_as, dispute_id):
    """The street sends it to the enterprise, which rectifies; the return visit is next."""
    street = login_as("street_office", org=world["street"])
    act(street, open_task(dispute_id, "dispatch"), handling="rectify", rectify_days="5", note="限期修复")
    act(login_as("enterprise", org=world["enterprise"]), open_task(dispute_id, "rectify"), measures="已修复电梯。")
    return street


def test_an_unanswered_work_order_escalates_before_the_hotline_deadline_and_a_late_reply_shows(
        app, client, world, login_as, hotline):
    calendar.set_clock(datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI))
    try:
        dispute_id = receive(app, client, "GD-SLA-1", deadline="2026-05-11T18:00:00+08:00")  # a Monday
        street = rectified(world, login_as, dispute_id)
        center = login_as("housing_center")
        # One working day before the deadline is Saturday 9 May, a working day (the May Day swap).
        calendar.set_clock(datetime(2026, 5, 9, 17, 59, tzinfo=SHANGHAI))
        engine_jobs.tick()
        assert open_task(dispute_id, "esc_hotline") is None
        calendar.set_clock(datetime(2026, 5, 9, 18, 1, tzinfo=SHANGHAI))
        assert engine_jobs.tick()["timers"] == 1
        warning = open_task(dispute_id, "esc_hotline")
        assert warning.role == "housing_center"
        assert "督办：12345 答复期限将至（住保中心）" in inbox(center)
        assert "督办：12345 答复期限将至" not in inbox(street)

        calendar.set_clock(datetime(2026, 5, 12, 10, 0, tzinfo=SHANGHAI))  # the deadline has passed
        act(street, open_task(dispute_id, "return_visit"), satisfaction="3", visit_note="回访基本满意")
        dispute = db.session.get(Dispute, dispute_id)
        reply = db.session.scalar(db.select(HotlineReply).where(HotlineReply.dispute_id == dispute_id))
        assert reply.status == "sent" and reply.on_time is False
        assert reply.sent_at > dispute.hotline_deadline
        assert hotline_replies(hotline)["GD-SLA-1"]["receipt"] == reply.receipt
        page = center.get(f"/disputes/{dispute_id}").get_data(as_text=True)
        assert "超期答复" in page and "按期答复" not in page and reply.receipt in page
        # The closed case ends the escalation nobody handled.
        assert db.session.get(ProcessInstance, dispute.instance_id).status == "completed"
        assert db.session.get(HumanTask, warning.id).status == "cancelled"
        stats = center.get("/disputes/stats").get_data(as_text=True)
        assert 'data-testid="on_time_rate">0%' in stats
    finally:
        calendar.set_clock(None)


def test_a_direct_complaint_has_no_hotline_deadline_to_escalate(app, world, login_as):
    street = login_as("street_office", org=world["street"])
    street.post("/disputes/new", data={"category": "物业收费", "content": "多收停车费",
                                       "community_id": world["community"].id})
    dispute = db.session.scalar(db.select(Dispute))
    instance = db.session.get(ProcessInstance, dispute.instance_id)
    assert dispute.hotline_deadline is None
    assert instance.next_timer_at == open_task(dispute.id, "dispatch").due_at  # only the step's own timer


def test_the_reply_is_retried_while_the_hotline_is_down_and_sent_once_when_it_is_back(
        redis_app, client, world, login_as, hotline, database_url, redis_url, tmp_path, monkeypatch):
    dispute_id = receive(redis_app, client, "GD-RETRY-1")
    street = rectified(world, login_as, dispute_id)
    requests.post(f"{hotline}/_control/down", json={"calls": 2}, timeout=5)  # down for two calls, then back
    act(street, open_task(dispute_id, "return_visit"), satisfaction="5", visit_note="回访满意")
    call = db.session.scalar(db.select(ServiceCall).where(ServiceCall.operator == "disputes.reply_hotline"))
    assert call.status == "pending"  # queued on Redis, not sent in the request
    assert hotline_calls(hotline, "GD-RETRY-1") == []

    monkeypatch.setenv("HOTLINE_URL", hotline)
    monkeypatch.setenv("HOTLINE_TIMEOUT", "2")
    run_worker(database_url, redis_url, "", tmp_path)

    call = db.session.get(ServiceCall, call.id)
    assert call.status == "succeeded" and call.attempts == 3 and "503" in call.last_error
    assert hotline_calls(hotline, "GD-RETRY-1") == [503, 503, 200]  # two refused, then answered once
    reply = db.session.scalar(db.select(HotlineReply).where(HotlineReply.dispute_id == dispute_id))
    assert reply.status == "sent" and reply.on_time is True
    assert hotline_replies(hotline)["GD-RETRY-1"]["receipt"] == reply.receipt
    dispute = db.session.get(Dispute, dispute_id)
    instance = db.session.get(ProcessInstance, dispute.instance_id)
    assert instance.status == "completed" and instance.incident is None
    kinds = list(db.session.scalars(db.select(InstanceEvent.kind).where(InstanceEvent.instance_id == instance.id)))
    assert kinds.count("service_call_retry") == 2 and "incident" not in kinds
