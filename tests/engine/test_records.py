"""What the engine keeps on record: the data each completion submitted (who, when, what),
`flask bpmn deploy` making no new versions when nothing changed, and the audit record of
a message delivered to no waiting case."""
import shutil

import pytest
from werkzeug.datastructures import MultiDict

from app.engine import runtime
from app.extensions import db
from app.models import AuditEvent, HumanTask, InstanceEvent, ProcessModelVersion
from app.services import tasks as task_service
from app.services.errors import NotFound
from tests.engine.conftest import BPMN_DIR
from tests.html_tables import table_rows


def open_task(instance_id):
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.status == "open"))


# ---------------------------------------------------------------- completed data

def test_each_completion_records_who_and_the_data_submitted(deployed, factory, api_client):
    enterprise = factory.enterprise()
    ent = factory.user("enterprise", org=enterprise)
    instance = runtime.start("demo_review", business_key="rec-1", title="演示", orgs={"enterprise_id": enterprise.id},
                             data={"review_days": 5, "account_no": "0"})

    # the service the pages use: the form validates, the task keeps what its fields hold
    submit = open_task(instance.id)
    task_service.complete(ent, submit.id, MultiDict({"title": "年度材料", "amount": "50000"}), csrf=False)
    submit = db.session.get(HumanTask, submit.id)
    assert submit.completed_data == {"title": "年度材料", "amount": "50000", "document": None}
    assert submit.completed_by_id == ent.id and submit.completed_at is not None and submit.status == "completed"

    # the API, as the center
    client, headers = api_client("housing_center")
    review = open_task(instance.id)
    assert client.post(f"/api/v1/tasks/{review.id}/complete", headers=headers,
                       json={"decision": "revise", "comment": "请补充物业费测算表"}).status_code == 200
    review = db.session.get(HumanTask, review.id)
    assert review.completed_data == {"decision": "revise", "comment": "请补充物业费测算表"}
    assert review.completed_by_id == client.user.id

    # the engine itself, as services call it
    again = open_task(instance.id)
    runtime.complete_task(again.id, {"title": "年度材料（补）", "amount": "80000.00"}, ent)
    assert db.session.get(HumanTask, again.id).completed_data == {"title": "年度材料（补）", "amount": "80000.00"}

    # and the timeline through the API says the same, with who did it
    timeline = client.get(f"/api/v1/instances/{instance.id}", headers=headers).get_json()["timeline"]
    completions = [(e["task"], e["actor"], e["data"]) for e in timeline if e["kind"] == "task_completed"]
    assert completions == [
        ("提交材料", ent.username, {"title": "年度材料", "amount": "50000", "document": None}),
        ("审核材料", client.user.username, {"decision": "revise", "comment": "请补充物业费测算表"}),
        ("提交材料", ent.username, {"title": "年度材料（补）", "amount": "80000.00"}),
    ]


# ---------------------------------------------------------------- flask bpmn deploy, twice

def versions() -> int:
    return db.session.scalar(db.select(db.func.count(ProcessModelVersion.id)))


def deploy_audits() -> int:
    return db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "process.deploy"))


def test_flask_bpmn_deploy_twice_makes_no_new_versions(runner, tmp_path):
    diagrams = sorted(p.stem for p in BPMN_DIR.glob("*.bpmn"))
    first = runner.invoke(args=["bpmn", "deploy"])
    assert first.exit_code == 0, first.output
    assert [line.split()[:3] for line in first.output.splitlines()] == [[k, "v1", "deployed"] for k in diagrams]
    assert versions() == len(diagrams) == deploy_audits()

    second = runner.invoke(args=["bpmn", "deploy"])
    assert second.exit_code == 0, second.output
    assert [line.split()[:3] for line in second.output.splitlines()] == [[k, "v1", "unchanged"] for k in diagrams]
    assert versions() == len(diagrams) == deploy_audits()

    # one diagram changed: only it gets a new version
    changed = tmp_path / "bpmn"
    shutil.copytree(BPMN_DIR, changed)
    demo = changed / "demo_review.bpmn"
    demo.write_text(demo.read_text(encoding="utf-8").replace('name="提交材料"', 'name="提交年度材料"'), encoding="utf-8")
    third = runner.invoke(args=["bpmn", "deploy", "--dir", str(changed)])
    assert third.exit_code == 0, third.output
    assert [line.split()[0] for line in third.output.splitlines() if "deployed" in line] == ["demo_review"]
    assert "demo_review                  v2 deployed" in third.output
    assert versions() == len(diagrams) + 1


# ---------------------------------------------------------------- a message nobody waits for

def unmatched() -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "engine.message_unmatched")
                                   .order_by(AuditEvent.id)))


def test_a_message_nobody_waits_for_is_refused_and_recorded(deployed, api_client, login_as):
    with pytest.raises(NotFound) as refused:
        runtime.deliver_message("demo.confirmed", "no-such-case", {"ok": True}, message_id="bank-7")
    assert "no-such-case" in refused.value.message
    [event] = unmatched()
    assert (event.target_type, event.target_id, event.actor_name) == ("Message", "demo.confirmed", "")
    assert event.after == {"correlation_key": "no-such-case", "message_id": "bank-7", "payload": {"ok": True}}

    client, headers = api_client("housing_center")
    response = client.post("/api/v1/messages", headers=headers, json={
        "name": "demo.confirmed", "correlation_key": "gone-2", "message_id": "bank-8", "payload": {"n": 2}})
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert "gone-2" in response.get_json()["message"]
    event = unmatched()[-1]
    assert event.actor_name == client.user.username  # who delivered it
    assert event.after == {"correlation_key": "gone-2", "message_id": "bank-8", "payload": {"n": 2}}
    assert db.session.scalar(db.select(db.func.count(InstanceEvent.id))) == 0  # no case was touched

    page = login_as("housing_center").get("/admin/audit", query_string={"action": "engine.message_unmatched"})
    rows = table_rows(page.get_data(as_text=True), "audit-table")[1:]
    assert [(r[1], r[2], r[3]) for r in rows] == [  # both, on the audit page, newest first
        (client.user.username, "engine.message_unmatched", "Message demo.confirmed"),
        ("—", "engine.message_unmatched", "Message demo.confirmed")]
