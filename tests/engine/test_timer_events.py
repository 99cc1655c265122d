"""Timers as a supervisor sees them through GET /api/v1/instances/<id>: a boundary timer in
working days fired by the periodic job itself (workers.engine.tick), and ISO-8601 duration
timers ("PT1H", "PT24H") on an intermediate catch event and on a user task's boundary."""
import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.engine import runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import HumanTask, ProcessInstance
from tests.engine import models as m
from workers import engine as engine_jobs

SHANGHAI = ZoneInfo("Asia/Shanghai")


def open_task(instance_id):
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "open"))


@pytest.fixture
def center(api_client):
    return api_client("housing_center")


def shown(center, instance_id) -> dict:
    client, headers = center
    response = client.get(f"/api/v1/instances/{instance_id}", headers=headers)
    assert response.status_code == 200
    return response.get_json()


@pytest.mark.parametrize("via", ["service", "api"])
def test_a_boundary_timer_fired_by_the_tick_job_shows_in_the_api(deployed, factory, api_client, center, login_as,
                                                                  clock, via):
    clock(datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI))  # 5 working days later is 14 October (National Day)
    enterprise = factory.enterprise()
    data = {"review_days": 5, "account_no": "0"}
    if via == "service":
        instance_id = runtime.start("demo_review", business_key="tick-1", title="演示", data=data,
                                    orgs={"enterprise_id": enterprise.id}).id
        runtime.complete_task(open_task(instance_id).id, {"title": "t", "amount": "1"},
                              factory.user("enterprise", org=enterprise))
    else:
        client, headers = api_client("enterprise", org=enterprise)
        instance_id = client.post("/api/v1/processes/demo_review/instances", headers=headers,
                                  json={"business_key": "tick-1", "data": data}).get_json()["id"]
        assert client.post(f"/api/v1/tasks/{open_task(instance_id).id}/complete", headers=headers,
                           json={"title": "t", "amount": "1"}).status_code == 200

    before = shown(center, instance_id)
    assert before["status"] == "running" and [t["name"] for t in before["open_tasks"]] == ["审核材料"]
    assert datetime.fromisoformat(before["next_timer_at"]) == datetime(2025, 10, 14, 10, 0, tzinfo=SHANGHAI)
    assert "timer_fired" not in [e["kind"] for e in before["timeline"]]

    clock(None)  # today is long past that deadline
    assert engine_jobs.tick()["timers"] == 1  # the periodic job, as the scheduler runs it

    after = shown(center, instance_id)
    assert after["status"] == "completed" and after["open_tasks"] == [] and after["next_timer_at"] is None
    kinds = [(e["kind"], e["task"]) for e in after["timeline"]]
    assert ("timer_fired", "5 个工作日未审核") in kinds and kinds[-1] == ("completed", "")
    page = login_as("housing_center").get(f"/cases/{instance_id}").get_data(as_text=True)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "期限届满 · 5 个工作日未审核" in text
    assert engine_jobs.tick()["timers"] == 0  # nothing is due any more


ISO_MODEL = m.model("iso_timers", "时长定时器", [
    m.start(), m.timer_catch("cooling", "冷静期一小时", '"PT1H"'), m.user_task("supplement", "补正材料"),
    m.boundary_timer("deadline", "24 小时未补正", "supplement", '"PT24H"'),
    m.script_task("mark", "记录超期", "outcome = 'overdue'"), m.end("end_done", "补正完成"), m.end("end_late", "超期结束"),
], m.flows(["start", "cooling", "supplement", "end_done"], ["deadline", "mark", "end_late"]))
T0 = datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def iso_case(app, clock):
    deploy("iso_timers", ISO_MODEL)
    clock(T0)
    return runtime.start("iso_timers", business_key="iso-1", title="时长定时器").id


def advance_at(clock, when) -> int:
    """Advance the due timers at `when` (a timer fires once its deadline has passed)."""
    clock(when)
    return runtime.advance_due_timers()


SECOND = timedelta(seconds=1)


def test_an_intermediate_timer_then_a_24_hour_boundary_timer(iso_case, center, clock):
    instance = db.session.get(ProcessInstance, iso_case)
    assert instance.status == "waiting" and open_task(iso_case) is None
    assert instance.next_timer_at == T0 + timedelta(hours=1)

    assert advance_at(clock, T0 + timedelta(minutes=59)) == 0  # not yet
    assert advance_at(clock, T0 + timedelta(hours=1) + SECOND) == 1
    task = open_task(iso_case)
    deadline = T0 + timedelta(hours=25) + SECOND  # PT24H from the moment the task opened
    assert task.name == "补正材料" and task.due_at == deadline
    assert db.session.get(ProcessInstance, iso_case).next_timer_at == deadline

    assert advance_at(clock, deadline - timedelta(minutes=1)) == 0
    assert advance_at(clock, deadline + SECOND) == 1
    assert db.session.get(HumanTask, task.id).status == "cancelled"
    seen = shown(center, iso_case)
    assert seen["status"] == "completed" and seen["next_timer_at"] is None
    assert [e["task"] for e in seen["timeline"] if e["kind"] == "timer_fired"] == ["冷静期一小时", "24 小时未补正"]
    assert "'outcome': 'overdue'" in str(db.session.get(ProcessInstance, iso_case).state)


def test_completing_in_time_cancels_the_24_hour_timer(iso_case, center, clock):
    assert advance_at(clock, T0 + timedelta(hours=1) + SECOND) == 1
    clock(T0 + timedelta(hours=20))
    client, headers = center
    assert client.post(f"/api/v1/tasks/{open_task(iso_case).id}/complete", headers=headers,
                       json={"title": "补正", "amount": "1"}).status_code == 200
    seen = shown(center, iso_case)
    assert seen["status"] == "completed" and seen["next_timer_at"] is None
    assert [e["task"] for e in seen["timeline"] if e["kind"] == "timer_fired"] == ["冷静期一小时"]
    assert advance_at(clock, T0 + timedelta(days=3)) == 0  # the boundary timer went with its task
