"""Bearer tokens for the JSON API: issued by CLI, stored hashed, revocable; cookies don't count."""
from app.extensions import db
from app.models import ApiToken


def test_cli_token_authenticates_and_is_stored_hashed(app, runner, factory):
    user = factory.user("bank", username="yinhang")
    token = runner.invoke(args=["users", "token", "yinhang"]).output.strip()
    assert token.startswith("wy_")
    row = db.session.scalar(db.select(ApiToken))
    assert row.token_hash != token and token not in row.token_hash
    client = app.test_client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json() == {"username": "yinhang", "display_name": "yinhang", "roles": ["bank"]}
    assert user.id == row.user_id


def test_missing_bad_and_revoked_tokens_get_json_401(app, runner, factory):
    factory.user("bank", username="yinhang")
    token = runner.invoke(args=["users", "token", "yinhang"]).output.strip()
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer wy_wrong"}, {"Authorization": token}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized" and response.get_json()["message"]
    assert "revoked" in runner.invoke(args=["users", "revoke", token[:10]]).output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_session_cookie_does_not_open_the_api(login_as):
    client = login_as("housing_center")
    assert client.get("/api/v1/me").status_code == 401


def test_openapi_spec_is_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/me" in spec["paths"]


def test_cli_user_create_refuses_bad_input(runner, factory):
    result = runner.invoke(args=["users", "create", "x", "--role", "wizard", "--password", "short"])
    assert result.exit_code == 1 and "roles" in result.output
    ok = runner.invoke(args=["users", "create", "zb2", "--role", "housing_center", "--password", "Good-pass-2026"])
    assert ok.exit_code == 0 and "created zb2" in ok.output


def test_a_token_counts_whatever_cookie_the_client_carries(app, runner, factory, login_as):
    """A client that opened a page first (and so carries a session cookie holding a CSRF
    token, or a signed-in user's session) is still the token's user on the API: the cookie
    is neither needed nor taken into account there."""
    factory.user("bank", username="yinhang")
    token = runner.invoke(args=["users", "token", "yinhang"]).output.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    visitor = app.test_client()
    visitor.get("/login")
    assert visitor.get_cookie("session") is not None
    assert visitor.get("/api/v1/me", headers=bearer).get_json()["username"] == "yinhang"
    signed_in = login_as("housing_center")
    assert signed_in.get("/api/v1/me", headers=bearer).get_json()["username"] == "yinhang"
    assert signed_in.get("/api/v1/me").status_code == 401
    assert signed_in.get("/inbox").status_code == 200  # the page session itself is untouched
