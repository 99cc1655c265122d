"""Object scoping: each organisation sees only its own records, in pages and API alike."""
import pytest


@pytest.fixture
def two_enterprises(factory):
    a, b = factory.enterprise(name="甲物业"), factory.enterprise(name="乙物业")
    office = factory.street_office()
    ca = factory.community(enterprise=a, street_office=office, name="甲小区")
    cb = factory.community(enterprise=b, name="乙小区")
    return a, b, ca, cb


def test_enterprise_sees_only_its_own_enterprise_and_communities(login_as, two_enterprises):
    a, b, ca, cb = two_enterprises
    client = login_as("enterprise", org=a)
    listing = client.get("/enterprises").get_data(as_text=True)
    assert "甲物业" in listing and "乙物业" not in listing
    assert client.get(f"/enterprises/{a.id}").status_code == 200
    assert client.get(f"/enterprises/{b.id}").status_code == 404  # guessed id: not even confirmed
    assert client.get(f"/communities/{cb.id}").status_code == 404
    assert "甲小区" in client.get("/communities").get_data(as_text=True)


def test_housing_center_sees_all(login_as, two_enterprises):
    a, b, ca, cb = two_enterprises
    client = login_as("housing_center")
    listing = client.get("/enterprises").get_data(as_text=True)
    assert "甲物业" in listing and "乙物业" in listing
    assert client.get(f"/communities/{cb.id}").status_code == 200


def test_street_office_sees_its_communities_only(login_as, two_enterprises):
    a, b, ca, cb = two_enterprises
    client = login_as("street_office", org=ca.street_office)
    assert client.get(f"/communities/{ca.id}").status_code == 200
    assert client.get(f"/communities/{cb.id}").status_code == 404


def test_bank_sees_no_enterprise_records(login_as, two_enterprises):
    a, *_ = two_enterprises
    client = login_as("bank")
    assert client.get(f"/enterprises/{a.id}").status_code == 404


def test_enterprise_cannot_register_enterprises(login_as, two_enterprises):
    client = login_as("enterprise", org=two_enterprises[0])
    assert client.get("/enterprises/new").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/enterprises")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_api_scoping_matches_pages(api_client, two_enterprises):
    a, b, ca, cb = two_enterprises
    client, headers = api_client("enterprise", org=a)
    items = client.get("/api/v1/enterprises", headers=headers).get_json()["items"]
    assert [e["name"] for e in items] == ["甲物业"]
    refused = client.get(f"/api/v1/enterprises/{b.id}", headers=headers)
    assert refused.status_code == 404 and refused.get_json()["error"] == "not_found"
