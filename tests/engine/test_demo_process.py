"""The demo process driven through the JSON API: user tasks in two lanes, an exclusive
gateway loop, a parallel split with a script and an external service task (the sandbox
bank), a message catch, and the refusals on the way."""
from decimal import Decimal

import pytest
import requests

from app.extensions import db
from app.integrations.bank import BankClient
from app.models import HumanTask, ProcessInstance, ServiceCall


@pytest.fixture
def account_no(app, bank_sandbox):
    client = BankClient(app.config["BANK_GATEWAY_URL"], app.config["BANK_KEY_ID"], app.config["BANK_SECRET"])
    account = client.open_account("demo-community", "演示监管账户")
    requests.post(f"{bank_sandbox.base_url}/_control/deposit",
                  json={"account_no": account["account_no"], "amount": "1234.50", "payer": "业主"}, timeout=5)
    return account["account_no"]


@pytest.fixture
def people(api_client, factory):
    enterprise = factory.enterprise(name="甲物业")
    ent_client, ent_headers = api_client("enterprise", org=enterprise)
    other_client, other_headers = api_client("enterprise")
    center_client, center_headers = api_client("housing_center")
    return {"enterprise": (ent_client, ent_headers), "other": (other_client, other_headers),
            "center": (center_client, center_headers), "enterprise_row": enterprise}


def tasks_of(client_headers, **params):
    client, headers = client_headers
    return client.get("/api/v1/tasks", headers=headers, query_string=params).get_json()["items"]


def test_demo_case_end_to_end(deployed, people, account_no):
    ent, ent_h = people["enterprise"]
    started = ent.post("/api/v1/processes/demo_review/instances", headers=ent_h,
                       json={"business_key": "demo-1", "title": "甲物业 · 演示材料",
                             "data": {"review_days": 5, "account_no": account_no}})
    assert started.status_code == 201, started.get_json()
    instance_id = started.get_json()["id"]

    mine = tasks_of(people["enterprise"])
    assert [t["name"] for t in mine] == ["提交材料"] and mine[0]["title"] == "甲物业 · 演示材料"
    assert tasks_of(people["other"]) == []  # another enterprise sees nothing
    assert tasks_of(people["center"]) == []  # not the center's turn yet
    task_id = mine[0]["id"]

    form = ent.get(f"/api/v1/tasks/{task_id}", headers=ent_h).get_json()["form"]
    assert {f["name"] for f in form} == {"title", "amount", "document"}

    bad = ent.post(f"/api/v1/tasks/{task_id}/complete", headers=ent_h, json={"title": "", "amount": "-3"})
    assert bad.status_code == 422
    assert set(bad.get_json()["fields"]) == {"title", "amount"}
    assert db.session.get(HumanTask, task_id).status == "open"

    other, other_h = people["other"]
    refused = other.post(f"/api/v1/tasks/{task_id}/complete", headers=other_h, json={"title": "x", "amount": "1"})
    assert refused.status_code == 404  # another enterprise's task does not exist for it

    done = ent.post(f"/api/v1/tasks/{task_id}/complete", headers=ent_h, json={"title": "年度材料", "amount": "50000.00"})
    assert done.status_code == 200
    again = ent.post(f"/api/v1/tasks/{task_id}/complete", headers=ent_h, json={"title": "年度材料", "amount": "1"})
    assert again.status_code == 409 and "已经办理完毕" in again.get_json()["message"]

    center, center_h = people["center"]
    review = tasks_of(people["center"])
    assert [t["name"] for t in review] == ["审核材料"] and review[0]["due_at"]
    review_id = review[0]["id"]
    no_comment = center.post(f"/api/v1/tasks/{review_id}/complete", headers=center_h, json={"decision": "revise"})
    assert no_comment.status_code == 422 and "comment" in no_comment.get_json()["fields"]
    not_its_role = ent.post(f"/api/v1/tasks/{review_id}/complete", headers=ent_h, json={"decision": "approve"})
    assert not_its_role.status_code == 403 and not_its_role.get_json()["error"] == "forbidden"

    center.post(f"/api/v1/tasks/{review_id}/complete", headers=center_h, json={"decision": "revise", "comment": "请补充"})
    resubmit = tasks_of(people["enterprise"])
    assert [t["name"] for t in resubmit] == ["提交材料"]  # the loop came back
    ent.post(f"/api/v1/tasks/{resubmit[0]['id']}/complete", headers=ent_h, json={"title": "年度材料（补）", "amount": "80000"})

    review_id = tasks_of(people["center"])[0]["id"]
    claimed = center.post(f"/api/v1/tasks/{review_id}/claim", headers=center_h)
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by"]
    approved = center.post(f"/api/v1/tasks/{review_id}/complete", headers=center_h, json={"decision": "approve"})
    assert approved.status_code == 200

    # The parallel branch ran the script and the external bank call (in-process job).
    instance = db.session.get(ProcessInstance, instance_id)
    call = db.session.scalar(db.select(ServiceCall).where(ServiceCall.instance_id == instance_id))
    assert call.status == "succeeded" and Decimal(call.result["balance"]) == Decimal("1234.50")
    assert instance.status == "waiting"
    state_text = str(instance.state)
    assert "4000.00" in state_text  # bond = 5 % of 80 000.00, exact

    unknown = center.post("/api/v1/messages", headers=center_h,
                          json={"name": "demo.confirmed", "correlation_key": "no-such-case"})
    assert unknown.status_code == 404
    assert ent.post("/api/v1/messages", headers=ent_h,
                    json={"name": "demo.confirmed", "correlation_key": "demo-1"}).status_code == 403
    delivered = center.post("/api/v1/messages", headers=center_h, json={
        "name": "demo.confirmed", "correlation_key": "demo-1", "message_id": "m-1", "payload": {"ok": True}})
    assert delivered.get_json()["status"] == "delivered"
    duplicate = center.post("/api/v1/messages", headers=center_h, json={
        "name": "demo.confirmed", "correlation_key": "demo-1", "message_id": "m-1", "payload": {"ok": True}})
    assert duplicate.status_code == 200 and duplicate.get_json()["status"] == "duplicate"

    shown = ent.get(f"/api/v1/instances/{instance_id}", headers=ent_h).get_json()
    assert shown["status"] == "completed"
    kinds = [e["kind"] for e in shown["timeline"]]
    assert kinds[0] == "started" and kinds.count("task_completed") == 4
    assert {"service_call_queued", "service_call_done", "message_received", "completed"} <= set(kinds)
    completed_by = [e["actor"] for e in shown["timeline"] if e["kind"] == "task_completed"]
    assert completed_by[0] == ent.user.username and completed_by[-1] == center.user.username
    assert people["other"][0].get(f"/api/v1/instances/{instance_id}", headers=other_h).status_code == 404


def test_only_the_start_lane_role_may_start(deployed, api_client):
    client, headers = api_client("bank")
    response = client.post("/api/v1/processes/demo_review/instances", headers=headers, json={})
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert db.session.scalar(db.select(db.func.count(ProcessInstance.id))) == 0


def test_a_caller_may_ask_for_only_the_outcome(deployed, people):
    """`Prefer: return=minimal` (RFC 7240): the case's id and status instead of the whole
    case, said so in Preference-Applied; a refusal is the same error either way."""
    ent, ent_h = people["enterprise"]
    minimal = {**ent_h, "Prefer": "return=minimal"}
    started = ent.post("/api/v1/processes/demo_review/instances", headers=minimal,
                       json={"business_key": "demo-min", "data": {"review_days": 5}})
    assert started.status_code == 201 and started.get_json() == {"id": started.get_json()["id"], "status": "running"}
    assert started.headers["Preference-Applied"] == "return=minimal" and "Prefer" in started.headers["Vary"]
    task_id = tasks_of(people["enterprise"])[0]["id"]

    bad = ent.post(f"/api/v1/tasks/{task_id}/complete", headers=minimal, json={"title": ""})
    assert bad.status_code == 422 and "title" in bad.get_json()["fields"]
    done = ent.post(f"/api/v1/tasks/{task_id}/complete", headers={**ent_h, "Prefer": "respond-async, return=minimal"},
                    json={"title": "年度材料", "amount": "100"})
    assert done.status_code == 200 and done.get_json() == {"id": started.get_json()["id"], "status": "running"}
    assert db.session.get(HumanTask, task_id).status == "completed"
    center_task = tasks_of(people["center"])[0]
    assert center_task["name"] == "审核材料"  # the case went on as with the whole answer

    whole = ent.get(f"/api/v1/instances/{started.get_json()['id']}", headers=ent_h)
    assert "Preference-Applied" not in whole.headers and whole.get_json()["timeline"][0]["kind"] == "started"
    full = people["center"][0].post(f"/api/v1/tasks/{center_task['id']}/complete", headers=people["center"][1],
                                    json={"decision": "revise", "comment": "请补充"})
    assert "Preference-Applied" not in full.headers and "timeline" in full.get_json()
