"""Takeover pages around the process: the register of street office heads, the community
page, the case page, the takeover page for each party, and the JSON API doing a task."""
from app.extensions import db
from app.models import EmergencyTakeover, StreetOfficeHead
from tests.takeover.conftest import client_for, open_case, takeover_task
from tests.takeover.test_process import accepted


def test_the_housing_center_registers_a_street_office_head_of_that_street_only(app, world, factory, login_as):
    center = client_for(app, world["center"])
    heads = center.get("/takeovers/heads").get_data(as_text=True)
    assert "qz_head" in heads and "dh_head" in heads
    newcomer = factory.user("street_office", org=world["street"], username="qz_new")
    wrong = center.post("/takeovers/heads", data={"user_id": newcomer.id, "street_office_id": world["other_street"].id})
    assert "负责人须为该街道办事处的用户" in wrong.get_data(as_text=True)
    assert db.session.get(StreetOfficeHead, newcomer.id) is None
    ok = center.post("/takeovers/heads", data={"user_id": newcomer.id, "street_office_id": world["street"].id})
    assert ok.status_code == 302
    assert db.session.get(StreetOfficeHead, newcomer.id).street_office_id == world["street"].id
    assert client_for(app, world["staff"]).get("/takeovers/heads").status_code == 403
    assert login_as("enterprise").post("/takeovers/heads", data={}).status_code == 403


def test_each_party_sees_the_takeover_it_belongs_to(app, world, factory, login_as):
    staff, takeover_id = accepted(app, world, factory)
    community = world["community"]
    provider = client_for(app, factory.user("enterprise", org=world["good"]))
    page = provider.get(f"/communities/{community.id}").get_data(as_text=True)
    assert "应急服务中" in page and "查看应急接管" in page
    assert provider.get(f"/takeovers/{takeover_id}").status_code == 200
    committee = login_as("owners_committee", org=db.session.get(type(community), community.id).owners_committee)
    assert "乾元物业" in committee.get(f"/takeovers/{takeover_id}").get_data(as_text=True)
    assert login_as("owners_committee").get(f"/takeovers/{takeover_id}").status_code == 404
    assert client_for(app, world["other_head"]).get(f"/takeovers/{takeover_id}").status_code == 404
    assert login_as("street_office").get(f"/communities/{community.id}").status_code == 404

    t = db.session.get(EmergencyTakeover, takeover_id)
    case = client_for(app, world["center"]).get(f"/cases/{t.instance_id}").get_data(as_text=True)
    assert "乾元物业（符合条件）" in case and "2026-03-03 — 2026-05-31" in case and t.record_no in case


def test_the_api_completes_a_proposal_with_the_same_rules(app, world):
    staff = client_for(app, world["staff"])
    open_case(staff, world["community"])
    takeover_id = db.session.scalar(db.select(EmergencyTakeover.id))
    task = takeover_task(takeover_id, "propose")
    from app.services import users
    token = users.issue_token(world["staff"], "test")
    headers = {"Authorization": f"Bearer {token}"}
    bad = app.test_client().post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json={
        "candidate_ids": [world["unsupervised"].id], "starts_on": "2026-03-03", "ends_on": "2026-05-31",
        "basic_scope": ["cleaning"]})
    assert bad.status_code == 422
    assert "未纳入物业服务费资金监管" in bad.get_json()["fields"]["candidate_ids"]
    ok = app.test_client().post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json={
        "candidate_ids": [world["good"].id], "starts_on": "2026-03-03", "ends_on": "2026-05-31",
        "basic_scope": ["cleaning", "order"]})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    t = db.session.get(EmergencyTakeover, takeover_id)
    assert t.status == "approval" and t.basic_scope == ["cleaning", "order"]
