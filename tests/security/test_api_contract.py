"""The API against its own OpenAPI document (schemathesis): for any input it generates, no
server error and no undocumented status code or content type, as a supervisor with a token."""
import schemathesis
from hypothesis import HealthCheck, given, settings

from app.services import users


def test_api_never_fails_or_breaks_its_spec(app, factory):
    token = users.issue_token(factory.user("housing_center", username="contract"), "contract")
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = (schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
              schemathesis.checks.content_type_conformance)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:
        @given(operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case):
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
            case.validate_response(response, checks=checks)

        exercise()


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
