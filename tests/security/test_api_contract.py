"""The API against its own OpenAPI document (schemathesis): for any input it generates, no
server error, no undocumented status code or content type, and every answer matches the
response schema of its operation (required fields, types) — as the housing center, an
enterprise, a street office, a bank, an owners' committee, a process manager and an
administrator, each with a token, over a small world in which their lists are not empty."""
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app.api.paging import MAX_PER_PAGE
from app.engine import runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.services import users

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
CHECKS = (schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_schema_conformance)
# role → examples per operation (the housing center, which sees everything, gets the most)
ROLES = {"housing_center": 12, "enterprise": 5, "street_office": 5, "bank": 4, "owners_committee": 4,
         "process_manager": 4, "admin": 5}


@pytest.fixture
def world(app, factory):
    deploy("demo_review", (BPMN / "demo_review.bpmn").read_text(encoding="utf-8"))
    street = factory.street_office("乾州街道")
    enterprise = factory.enterprise(name="乾元物业")
    community = factory.community(enterprise=enterprise, street_office=street, name="世纪华庭")
    runtime.start("demo_review", business_key="contract-1", title="演示案件",
                  orgs={"enterprise_id": enterprise.id, "community_id": community.id, "street_office_id": street.id})
    db.session.commit()
    orgs = {"enterprise": enterprise, "street_office": street, "owners_committee": factory.committee(community)}
    return {role: factory.user(role, org=orgs.get(role)) for role in ROLES}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_api_never_fails_or_breaks_its_spec(app, world, role):
    headers = {"Authorization": f"Bearer {users.issue_token(world[role], 'contract')}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        @given(operation.as_strategy())
        @settings(max_examples=ROLES[role], deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case):
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
            case.validate_response(response, checks=CHECKS)

        exercise()


def test_every_operation_documents_what_its_success_answer_holds(app):
    """No JSON success answer is left as a bare object: each names its required fields (a
    file download names its media types instead)."""
    from app.api.openapi import build_spec
    bare = [(path, method, code) for path, ops in build_spec()["paths"].items() for method, spec in ops.items()
            for code, answer in spec["responses"].items() if code.startswith("2")
            and ("application/json" in answer["content"] or not answer["content"])
            and not answer["content"].get("application/json", {}).get("schema", {}).get("required")]
    assert bare == []


def test_lists_come_a_page_at_a_time_with_a_clear_refusal_beyond_the_limit(api_client, factory):
    for i in range(MAX_PER_PAGE + 5):
        factory.enterprise(name=f"分页物业{i:03d}")
    client, headers = api_client("housing_center")
    first = client.get("/api/v1/enterprises", headers=headers).get_json()
    assert len(first["items"]) == 50 and first["total"] == MAX_PER_PAGE + 5 and first["pages"] == 3
    biggest = client.get(f"/api/v1/enterprises?per_page={MAX_PER_PAGE}", headers=headers).get_json()
    assert len(biggest["items"]) == MAX_PER_PAGE
    last = client.get(f"/api/v1/enterprises?per_page={MAX_PER_PAGE}&page=2", headers=headers).get_json()
    assert len(last["items"]) == 5 and {e["id"] for e in last["items"]}.isdisjoint(e["id"] for e in biggest["items"])
    for url in ("/api/v1/enterprises", "/api/v1/communities", "/api/v1/inspections/findings", "/api/v1/fees"):
        for bad in (f"per_page={MAX_PER_PAGE + 1}", "per_page=0", "page=0", "page=x", "per_page=-1"):
            refused = client.get(f"{url}?{bad}", headers=headers)
            assert refused.status_code == 422, (url, bad)
            field = bad.split("=")[0]
            assert refused.get_json()["fields"][field], (url, bad)


def test_ids_beyond_the_database_range_are_a_plain_404(login_as, api_client):
    client, headers = api_client("housing_center")
    assert client.get("/api/v1/enterprises/2147483648", headers=headers).status_code == 404
    assert login_as("housing_center").get("/cases/99999999999").status_code == 404


def test_nul_characters_are_refused_before_they_reach_the_database(login_as, api_client, factory):
    client, headers = api_client("housing_center")
    response = client.post("/api/v1/messages", headers=headers,
                           json={"name": "x\x00", "correlation_key": "k", "payload": {"a": ["\x00"]}})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_input"

    page = login_as("housing_center").get("/inbox/?q=a%00b")
    assert page.status_code == 400
    assert "控制字符" in page.get_data(as_text=True)
