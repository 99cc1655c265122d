"""Timers in working days, version pinning, optimistic locking, incidents, the linter."""
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.engine import runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import HumanTask, InstanceEvent, ProcessInstance
from app.services.errors import Conflict, ValidationFailed
from tests.engine.conftest import BPMN_DIR

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_XML = (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8")


def start_demo(factory, **data):
    enterprise = factory.enterprise()
    return runtime.start("demo_review", business_key=f"k-{enterprise.id}", title="演示",
                         data={"review_days": 5, "account_no": "0", **data},
                         orgs={"enterprise_id": enterprise.id})


def open_task(instance_id, name):
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.name == name,
                                                        HumanTask.status == "open"))


def test_boundary_timer_in_working_days_fires_and_closes_the_task(deployed, factory, clock):
    # 5 working days after 2025-09-30 is 2025-10-14 (National Day holiday; 11 October is worked).
    clock(datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI))
    instance = start_demo(factory)
    actor = factory.user("enterprise")
    runtime.complete_task(open_task(instance.id, "提交材料").id, {"title": "t", "amount": "1"}, actor)
    review = open_task(instance.id, "审核材料")
    expected = datetime(2025, 10, 14, 10, 0, tzinfo=SHANGHAI)
    assert review.due_at == expected
    assert db.session.get(ProcessInstance, instance.id).next_timer_at == expected

    clock(None)  # real time is long past that deadline
    assert runtime.advance_due_timers() == 1
    instance = db.session.get(ProcessInstance, instance.id)
    assert instance.status == "completed" and instance.next_timer_at is None
    assert db.session.get(HumanTask, review.id).status == "cancelled"
    kinds = list(db.session.scalars(db.select(InstanceEvent.kind).where(InstanceEvent.instance_id == instance.id)))
    assert "timer_fired" in kinds
    assert runtime.advance_due_timers() == 0  # nothing due any more; running it twice is harmless


def test_completing_after_the_deadline_is_refused(deployed, factory, clock):
    clock(datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI))
    instance = start_demo(factory)
    runtime.complete_task(open_task(instance.id, "提交材料").id, {"title": "t", "amount": "1"}, factory.user("enterprise"))
    review = open_task(instance.id, "审核材料")
    clock(None)
    with pytest.raises(Conflict):
        runtime.complete_task(review.id, {"decision": "approve"}, factory.user("housing_center"))
    assert db.session.get(ProcessInstance, instance.id).status == "completed"  # the timer won


def test_only_due_instances_are_selected(deployed, factory, clock):
    clock(datetime.now(timezone.utc) + timedelta(days=1))
    later = start_demo(factory)
    runtime.complete_task(open_task(later.id, "提交材料").id, {"title": "t", "amount": "1"}, factory.user("enterprise"))
    clock(None)
    assert runtime.due_timer_instance_ids(datetime.now(timezone.utc)) == []


def test_running_instance_stays_on_its_version_after_redeploy(deployed, factory):
    old = start_demo(factory)
    v2_xml = DEMO_XML.replace('name="提交材料"', 'name="提交年度材料"')
    version, created = deploy("demo_review", v2_xml)
    assert created and version.number == 2
    assert deploy("demo_review", v2_xml)[1] is False  # same content: no new version
    new = start_demo(factory)
    assert open_task(old.id, "提交材料") is not None
    assert open_task(new.id, "提交年度材料") is not None
    runtime.complete_task(open_task(old.id, "提交材料").id, {"title": "t", "amount": "1"}, factory.user("enterprise"))
    assert open_task(old.id, "审核材料") is not None
    assert db.session.get(ProcessInstance, old.id).version.number == 1


def test_a_save_from_a_stale_state_conflicts_and_loses_nothing(deployed, factory, app):
    instance = start_demo(factory)
    task = open_task(instance.id, "提交材料")
    row = db.session.get(ProcessInstance, instance.id)
    wf = runtime._load(row)  # this request read version N ...
    with app.app_context():  # ... while another request, with its own session, completes the task
        runtime.complete_task(task.id, {"title": "first", "amount": "1"}, factory.user("enterprise"))
    row.title = "changed from a stale state"
    with pytest.raises(Conflict):
        runtime._save(row, wf)
    db.session.rollback()
    assert db.session.get(ProcessInstance, instance.id).title == "演示"
    assert db.session.get(HumanTask, task.id).status == "completed"


def test_concurrent_completions_exactly_one_wins(deployed, factory, login_as, api_client):
    instance = start_demo(factory)
    task_id = open_task(instance.id, "提交材料").id
    enterprise_id = instance.enterprise_id
    from app.models import Enterprise
    org = db.session.get(Enterprise, enterprise_id)
    clients = [api_client("enterprise", org=org) for _ in range(2)]
    barrier = threading.Barrier(2)
    codes = []

    def submit(client, headers):
        barrier.wait()
        codes.append(client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers,
                                 json={"title": "并发", "amount": "1"}).status_code)

    threads = [threading.Thread(target=submit, args=c) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]
    assert db.session.scalar(db.select(db.func.count(InstanceEvent.id)).where(
        InstanceEvent.instance_id == instance.id, InstanceEvent.kind == "task_completed")) == 1


def test_script_failure_puts_the_instance_in_error_and_retry_recovers(deployed, factory):
    instance = start_demo(factory)
    runtime.complete_task(open_task(instance.id, "提交材料").id, {"title": "t", "amount": "not-a-number"},
                          factory.user("enterprise"))
    center = factory.user("housing_center")
    runtime.complete_task(open_task(instance.id, "审核材料").id, {"decision": "approve"}, center)
    instance = db.session.get(ProcessInstance, instance.id)
    assert instance.status == "error" and instance.incident_task == "计算保证金"
    assert "InvalidOperation" in instance.incident  # the script's error, shown to the supervisor
    with pytest.raises(Conflict):
        runtime.resume(instance.id, center)  # not suspended: an incident is retried, not resumed
    runtime.retry_incident(instance.id, center)  # the data is still wrong: the incident stays, nothing lost
    instance = db.session.get(ProcessInstance, instance.id)
    assert instance.status == "error"
    kinds = list(db.session.scalars(db.select(InstanceEvent.kind).where(InstanceEvent.instance_id == instance.id)))
    assert kinds.count("incident") == 2 and "incident_retry" in kinds


def test_linter_refuses_unsafe_and_unbound_models(app):
    bad = (DEMO_XML.replace("outcome = 'overdue'", "__import__('os').system('touch /tmp/wuye-pwned')")
           .replace('value="demo.ReviewForm"', 'value="demo.NoSuchForm"')
           .replace('name="住保中心"', 'name="魔法部"')
           .replace('id="demo.account_balance"', 'id="bank.no_such_operator"')
           .replace('name="demo.confirmed"', 'name="demo.unknown_message"'))
    with pytest.raises(ValidationFailed) as e:
        deploy("demo_review", bad)
    problems = e.value.fields["bpmn"]
    for expected in ("记录超期", "demo.NoSuchForm", "魔法部", "bank.no_such_operator", "demo.unknown_message"):
        assert expected in problems
    assert not Path("/tmp/wuye-pwned").exists()
    assert db.session.scalar(db.select(db.func.count(ProcessInstance.id))) == 0


def test_bad_timer_expression_is_refused(app):
    bad = DEMO_XML.replace("working_days(review_days)", "'P5X'")
    with pytest.raises(ValidationFailed) as e:
        deploy("demo_review", bad)
    assert "P5X" in e.value.fields["bpmn"]


def test_the_scripts_today_is_the_date_in_jishou(app):
    from app.engine import calendar
    calendar.set_clock(datetime(2026, 5, 6, 17, 0, tzinfo=timezone.utc))  # 01:00 on 7 May in Jishou
    try:
        assert calendar.script_helpers()["today"]() == "2026-05-07"
    finally:
        calendar.set_clock(None)
