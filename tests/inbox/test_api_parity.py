"""What the pages do, the API does too, with the same refusals."""
import pytest

from app.engine import runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import CaseComment, HumanTask, ProcessInstance
from tests.engine.conftest import BPMN_DIR


@pytest.fixture
def case(app, factory):
    deploy("demo_review", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8"))
    enterprise = factory.enterprise(name="甲物业")
    instance = runtime.start("demo_review", business_key="api-1", title="甲物业 · 年度材料",
                             data={"review_days": 5, "account_no": "0"}, orgs={"enterprise_id": enterprise.id})
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))
    return instance, task, enterprise


def test_draft_comment_list_and_supervision_through_the_api(case, api_client, factory):
    instance, task, enterprise = case
    ent, eh = api_client("enterprise", org=enterprise)
    assert ent.post(f"/api/v1/tasks/{task.id}/draft", headers=eh, json={"title": "草稿"}).status_code == 200
    assert db.session.get(HumanTask, task.id).draft["title"] == "草稿"
    assert ent.post(f"/api/v1/instances/{instance.id}/comments", headers=eh, json={"body": "已准备"}).status_code == 201
    empty = ent.post(f"/api/v1/instances/{instance.id}/comments", headers=eh, json={"body": " "})
    assert empty.status_code == 422 and "body" in empty.get_json()["fields"]
    assert db.session.scalar(db.select(db.func.count(CaseComment.id))) == 1
    assert [i["id"] for i in ent.get("/api/v1/instances", headers=eh).get_json()["items"]] == [instance.id]
    other, oh = api_client("enterprise")
    assert other.get("/api/v1/instances", headers=oh).get_json()["items"] == []
    assert other.post(f"/api/v1/instances/{instance.id}/comments", headers=oh, json={"body": "x"}).status_code == 404

    assert ent.post(f"/api/v1/instances/{instance.id}/suspend", headers=eh, json={}).status_code == 403
    center, ch = api_client("housing_center")
    assert center.post(f"/api/v1/instances/{instance.id}/suspend", headers=ch, json={}).get_json()["status"] == "suspended"
    assert center.post(f"/api/v1/instances/{instance.id}/resume", headers=ch, json={}).get_json()["status"] == "running"
    no_reason = center.post(f"/api/v1/instances/{instance.id}/terminate", headers=ch, json={})
    assert no_reason.status_code == 422
    colleague = factory.user("enterprise", org=enterprise, username="colleague")
    assert center.post(f"/api/v1/tasks/{task.id}/reassign", headers=ch, json={"username": "colleague"}).status_code == 200
    assert db.session.get(HumanTask, task.id).claimed_by_id == colleague.id
    bank_user = factory.user("bank", username="teller")
    refused = center.post(f"/api/v1/tasks/{task.id}/reassign", headers=ch, json={"username": "teller"})
    assert refused.status_code == 422 and bank_user.id
    assert ent.post(f"/api/v1/tasks/{task.id}/reassign", headers=eh, json={"username": "colleague"}).status_code == 403
    done = center.post(f"/api/v1/instances/{instance.id}/terminate", headers=ch, json={"reason": "撤回"})
    assert done.get_json()["status"] == "terminated"
    assert db.session.get(ProcessInstance, instance.id).end_reason == "撤回"
