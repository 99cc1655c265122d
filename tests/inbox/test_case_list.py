"""The case list's filters (status, incident, overdue, process) and a supervisor's reassign
from the case page, with its refusals: not a supervisor, or a user without the task's role."""
from datetime import datetime, timedelta, timezone

import pytest

from app.engine import runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import HumanTask, InstanceEvent, ProcessInstance
from tests.conftest import PASSWORD
from tests.engine.conftest import BPMN_DIR
from tests.html_tables import table_rows

START = {"review_days": 5, "account_no": "0"}


def open_task(instance_id):
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "open"))


@pytest.fixture
def cases(app, factory):
    """A running case, a suspended one, one stopped on an incident, one with an overdue task,
    and a case of another process."""
    deploy("demo_review", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8"))
    enterprise = factory.enterprise(name="乾元物业")
    made = {}
    for name in ("进行中", "已暂停", "出故障", "已超期"):
        made[name] = runtime.start("demo_review", business_key=name, title=f"乾元物业 · {name}", data=START,
                                   orgs={"enterprise_id": enterprise.id})
    runtime.suspend(made["已暂停"].id, None)
    broken = made["出故障"]
    runtime.complete_task(open_task(broken.id).id, {"title": "t", "amount": "not-a-number"}, None)
    runtime.complete_task(open_task(broken.id).id, {"decision": "approve"}, None)  # the fee script fails
    late = open_task(made["已超期"].id)
    late.due_at = datetime.now(timezone.utc) - timedelta(hours=1)
    db.session.commit()
    other = deploy("demo_other", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8")
                   .replace('id="demo_review"', 'id="demo_other"')
                   .replace('processRef="demo_review"', 'processRef="demo_other"'))[0]
    made["别的流程"] = runtime.start("demo_other", title="乾元物业 · 别的流程", data=START,
                                 orgs={"enterprise_id": enterprise.id})
    assert db.session.get(ProcessInstance, broken.id).status == "error" and other.model.key == "demo_other"
    return made, enterprise


def listed(client, query="") -> list[str]:
    return sorted(row[1].removeprefix("乾元物业 · ") for row in
                  table_rows(client.get(f"/cases{query}").get_data(as_text=True), "case-table")[1:] if len(row) > 1)


def test_case_list_filters(login_as, cases):
    center = login_as("housing_center")
    assert listed(center) == ["出故障", "别的流程", "已暂停", "已超期", "进行中"]
    assert listed(center, "?status=suspended") == ["已暂停"]
    assert listed(center, "?status=error") == ["出故障"]
    assert listed(center, "?incident=1") == ["出故障"]
    assert listed(center, "?overdue=1") == ["已超期"]
    assert listed(center, "?process=demo_other") == ["别的流程"]
    assert listed(center, "?process=demo_review&status=running&overdue=1") == ["已超期"]
    assert listed(center, "?q=暂停") == ["已暂停"]
    page = center.get("/cases?incident=1&status=error").get_data(as_text=True)
    assert 'id="incident" checked' in page and 'value="error" selected' in page  # kept for the reload
    # an enterprise sees only its own cases, with the same filters
    assert listed(login_as("enterprise"), "?incident=1") == []
    assert listed(login_as("enterprise", org=cases[1]), "?incident=1") == ["出故障"]


def test_a_supervisor_reassigns_a_task_from_the_case_page(app, login_as, cases, factory):
    made, enterprise = cases
    instance = made["进行中"]
    task = open_task(instance.id)
    colleague = factory.user("enterprise", org=enterprise, username="qianyuan2")
    center = login_as("housing_center")
    assert 'placeholder="改派给（用户名）"' in center.get(f"/cases/{instance.id}").get_data(as_text=True)
    done = center.post(f"/tasks/{task.id}/reassign", data={"username": "qianyuan2"}, follow_redirects=True)
    assert f"任务已改派给 {colleague.display_name}。" in done.get_data(as_text=True)
    assert db.session.get(HumanTask, task.id).claimed_by_id == colleague.id
    event = db.session.scalar(db.select(InstanceEvent).where(InstanceEvent.instance_id == instance.id,
                                                             InstanceEvent.kind == "task_reassigned"))
    assert event.actor_id == center.user.id and event.data["to"] == "qianyuan2"
    inbox = app.test_client()
    inbox.post("/login", data={"username": "qianyuan2", "password": PASSWORD})
    assert [row[0] for row in table_rows(inbox.get("/inbox?tab=mine").get_data(as_text=True), "inbox-table")[1:]] == [
        "乾元物业 · 进行中"]


def test_reassign_refusals_change_nothing(login_as, cases, factory):
    made, enterprise = cases
    instance = made["进行中"]
    task = open_task(instance.id)
    factory.user("enterprise", org=enterprise, username="qianyuan2")
    factory.user("bank", username="teller")
    other_enterprise = factory.user("enterprise", username="stranger")  # the role, not the case's enterprise

    def events():
        return db.session.scalar(db.select(db.func.count(InstanceEvent.id)).where(InstanceEvent.instance_id == instance.id))

    before = events()
    ent = login_as("enterprise", org=enterprise)
    refused = ent.post(f"/tasks/{task.id}/reassign", data={"username": "qianyuan2"}, follow_redirects=True)
    assert "只有主管可以改派任务。" in refused.get_data(as_text=True)
    center = login_as("housing_center")
    for username in ("teller", other_enterprise.username, "nobody"):
        refused = center.post(f"/tasks/{task.id}/reassign", data={"username": username}, follow_redirects=True)
        assert "改派对象无权办理该任务。" in refused.get_data(as_text=True), username
    assert db.session.get(HumanTask, task.id).claimed_by_id is None and events() == before
