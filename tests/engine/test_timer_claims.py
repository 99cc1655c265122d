"""The timer job with several workers: each due instance is claimed for its own
transaction (a row another worker holds is skipped, not done twice), and one tick drains a
backlog batch after batch."""
from datetime import datetime

import pytest

from app.engine import runtime
from app.extensions import db
from app.models import InstanceEvent, ProcessInstance
from tests.engine.test_engine_behaviour import SHANGHAI, open_task, start_demo


def due_instance(factory, clock):
    """A demo case whose working-day review deadline (2025) is long past."""
    clock(datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI))
    instance = start_demo(factory)
    runtime.complete_task(open_task(instance.id, "提交材料").id, {"title": "t", "amount": "1"},
                          factory.user("enterprise"))
    clock(None)
    return instance.id


def fired(instance_id) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(InstanceEvent).where(
        InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "timer_fired"))


@pytest.mark.postgres_only
def test_an_instance_another_worker_holds_is_skipped_then_advanced_once(deployed, factory, clock):
    instance_id = due_instance(factory, clock)
    db.session.commit()
    with db.engine.connect() as other:  # another worker in the middle of advancing this instance
        other.begin()
        other.execute(db.text("SELECT id FROM process_instance WHERE id = :i FOR UPDATE"), {"i": instance_id})
        assert runtime.advance_due_timers() == 0
        assert db.session.get(ProcessInstance, instance_id).status == "running" and fired(instance_id) == 0
        other.rollback()
    db.session.expire_all()
    assert runtime.advance_due_timers() == 1
    assert runtime.advance_due_timers() == 0
    assert db.session.get(ProcessInstance, instance_id).status == "completed"
    assert fired(instance_id) == 1


def test_an_instance_no_longer_due_is_not_claimed(deployed, factory, clock):
    instance_id = due_instance(factory, clock)
    now = datetime.now(SHANGHAI)
    assert runtime.advance_timers(instance_id, due_at=now) is True
    assert runtime.advance_timers(instance_id, due_at=now) is False  # a second worker with a stale list
    assert fired(instance_id) == 1


def test_one_tick_drains_a_backlog_larger_than_a_batch(deployed, factory, clock, monkeypatch):
    from workers import engine as engine_jobs
    ids = [due_instance(factory, clock) for _ in range(3)]
    monkeypatch.setattr(engine_jobs, "TICK_BATCH", 1)
    assert engine_jobs.tick()["timers"] == 3
    assert [db.session.get(ProcessInstance, i).status for i in ids] == ["completed"] * 3
    assert engine_jobs.tick()["timers"] == 0


def test_a_broken_case_does_not_hold_back_the_others_and_shows_an_incident(deployed, factory, clock, api_client):
    ids = [due_instance(factory, clock) for _ in range(3)]
    # one case's stored state is damaged (say, by a bad manual repair): loading it fails
    db.session.execute(db.update(ProcessInstance).where(ProcessInstance.id == ids[1]).values(state={"tasks": {}}))
    db.session.commit()

    assert runtime.advance_due_timers() == 2
    db.session.expire_all()
    assert [db.session.get(ProcessInstance, i).status for i in ids] == ["completed", "error", "completed"]
    assert [fired(i) for i in ids] == [1, 0, 1]
    client, headers = api_client("housing_center")
    body = client.get(f"/api/v1/instances/{ids[1]}", headers=headers).get_json()
    assert body["status"] == "error" and body["incident"] and body["timeline"][-1]["kind"] == "incident"
    assert runtime.advance_due_timers() == 0  # out of the timer job's way until a supervisor retries it
