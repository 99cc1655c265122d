"""Signing secrets come from the environment in production, rotate without downtime (the bank,
the device platform and the 12345 hotline alike, and the session key without logging anyone
out), and never show in logs or error pages."""
import json
import logging

import pytest
import requests

from app import config
from app.integrations.signing import sign_headers

INTEGRATIONS = {  # secret → (callback path, a body the use case refuses only after the signature passed)
    "BANK_SECRET": ("/api/v1/integrations/bank/notifications", {"type": "ping"}),
    "DEVICE_SECRET": ("/api/v1/integrations/devices/events", {"events": "not a list"}),
    "HOTLINE_SECRET": ("/api/v1/integrations/hotline/work-orders", {"content": "no number"}),
}
SANDBOX_DEFAULTS = config.SIGNING_SECRETS


def post(client, path, secret, payload):
    body = json.dumps(payload).encode()
    headers = {**sign_headers(secret, "sender", "POST", path, body), "Content-Type": "application/json"}
    return client.post(path, data=body, headers=headers)


def accepted(response) -> bool:
    """The signature passed: whatever the use case then said, it was not a signature refusal."""
    return response.status_code != 401


@pytest.mark.parametrize("name", sorted(INTEGRATIONS))
def test_old_and_new_keys_are_both_accepted_during_a_rotation(app, client, name):
    path, payload = INTEGRATIONS[name]
    old = app.config[name]
    assert accepted(post(client, path, old, payload))
    assert not accepted(post(client, path, "the-new-key", payload))  # not before the switch

    app.config[f"{name}_PREVIOUS"], app.config[name] = old, "the-new-key"  # the rotation starts
    assert accepted(post(client, path, "the-new-key", payload))
    assert accepted(post(client, path, old, payload))
    refused = post(client, path, "someone-elses-key", payload)
    assert refused.status_code == 401 and refused.get_json()["fields"]["signature"] == "bad_signature"

    app.config[f"{name}_PREVIOUS"] = None  # rotation finished
    assert accepted(post(client, path, "the-new-key", payload))
    assert not accepted(post(client, path, old, payload))


def test_the_previous_keys_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DEVICE_SECRET", "new-device-key")
    monkeypatch.setenv("DEVICE_SECRET_PREVIOUS", "old-device-key")
    monkeypatch.setenv("SECRET_KEY", "new-session-key")
    monkeypatch.setenv("SECRET_KEY_PREVIOUS", "old-session-key, older-session-key")
    loaded = config.load(str(tmp_path))
    assert (loaded["DEVICE_SECRET"], loaded["DEVICE_SECRET_PREVIOUS"]) == ("new-device-key", "old-device-key")
    assert loaded["SECRET_KEY_FALLBACKS"] == ["old-session-key", "older-session-key"]
    monkeypatch.delenv("SECRET_KEY_PREVIOUS")
    assert config.load(str(tmp_path))["SECRET_KEY_FALLBACKS"] == []


def logged_in(client) -> bool:
    response = client.get("/")
    return response.status_code == 200 and "/logout" in response.get_data(as_text=True)


def rotate(app, new="the-new-session-key"):
    old = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = new, [old]


def test_a_session_key_rotation_logs_nobody_out(app, login_as):
    user = login_as("housing_center")
    bystander = login_as("enterprise")  # does nothing during the rotation
    stranger = login_as("bank")
    assert logged_in(user)
    old_cookie = user.get_cookie("session").value
    rotate(app)
    assert logged_in(user)  # the cookie signed with the old key is still read…
    assert user.get_cookie("session").value != old_cookie  # …and comes back signed anew
    app.config["SECRET_KEY_FALLBACKS"] = []  # the rotation ends
    assert logged_in(user)  # its session was re-signed during the rotation
    assert not logged_in(bystander)  # one that never came by during it must log in again
    app.config["SECRET_KEY"] = "yet-another-key"
    assert not logged_in(stranger)  # and a key nobody configured opens nothing


def test_a_remember_me_cookie_survives_the_rotation(app, client, factory):
    user = factory.user("housing_center")
    client.post("/login", data={"username": user.username, "password": "Secret-pass-123", "remember": "y"})
    client.delete_cookie("session")  # the browser was closed: only the remember-me cookie is left
    assert logged_in(client)
    client.delete_cookie("session")
    rotate(app)
    assert logged_in(client)
    client.delete_cookie("session")
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert logged_in(client)  # the remember-me cookie was issued again with the new key


def test_production_refuses_to_start_on_sandbox_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("WUYE_ENV", "production")
    for name in ("BANK_SECRET", "DEVICE_SECRET", "HOTLINE_SECRET", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BANK_SECRET", "real")
    with pytest.raises(RuntimeError) as e:
        config.load(str(tmp_path))
    assert "DEVICE_SECRET" in str(e.value) and "SECRET_KEY" in str(e.value) and "real" not in str(e.value)


SECRETS = {"BANK_SECRET": "bank-secret-1f3a9c", "DEVICE_SECRET": "device-secret-77b0e2",
           "HOTLINE_SECRET": "hotline-secret-5d41aa", "SECRET_KEY": "session-key-c0ffee"}


@pytest.fixture
def app_config():
    return dict(SECRETS)


def logged_text(caplog) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def assert_no_secret(text):
    leaked = [name for name, value in SECRETS.items() if value in text]
    assert leaked == [], f"{leaked} leaked"


def test_failing_integration_calls_never_log_a_secret(app, factory, caplog):
    """The bank refuses our signature, then is down; the device platform is unreachable: each
    failure is logged (the HTTP client's debug lines included), never with a secret."""
    from sandbox.bank import create_app as create_bank
    from sandbox.server import serve_in_thread
    from app.services import escrow
    from workers import devices as device_jobs, escrow as escrow_jobs

    caplog.set_level(logging.DEBUG)
    url, shutdown = serve_in_thread(create_bank(key_id=app.config["BANK_KEY_ID"], secret=SECRETS["BANK_SECRET"]))
    try:
        app.config.update(BANK_GATEWAY_URL=url, BANK_TIMEOUT=2)
        enterprise = factory.enterprise(name="乾元物业")
        community = factory.community(enterprise=enterprise, name="世纪华庭")
        account = escrow.open_account({"community_id": community.id, "bank_id": factory.bank().id,
                                       "payee_account_no": "6222021234567890128", "payee_name": "乾元物业"},
                                      factory.user("housing_center"))
        app.config["BANK_SECRET"] = "a-key-the-bank-does-not-know"  # the bank answers 401
        with pytest.raises(Exception):
            escrow.pull_statement(account)
        app.config["BANK_SECRET"] = SECRETS["BANK_SECRET"]
        requests.post(f"{url}/_control/down", timeout=5)
        assert escrow_jobs.pull_statements() == 0  # 503: logged and skipped
    finally:
        shutdown()
    app.config.update(DEVICE_PLATFORM_URL="http://127.0.0.1:9", DEVICE_TIMEOUT=1)
    assert device_jobs.poll()["failed"]
    text = logged_text(caplog)
    assert "503" in text and "127.0.0.1:9" in text  # the failures were logged…
    assert_no_secret(text)  # …without a secret


def test_a_server_error_page_shows_no_secret_and_no_traceback(app, caplog):
    def crash():
        raise RuntimeError("gateway said no to " + app.config["BANK_SECRET"])

    app.add_url_rule("/_test/crash", "test_crash", crash)
    response = app.test_client().get("/_test/crash")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and "系统出现错误" in body
    assert_no_secret(body)
    assert "Traceback" not in body and "RuntimeError" not in body
    api = app.test_client().get("/api/v1/no-such-thing")
    assert_no_secret(api.get_data(as_text=True))


def test_error_pages_never_show_configuration(app, client, login_as):
    body = login_as("admin").get("/no-such-page").get_data(as_text=True)
    for name in ("BANK_SECRET", "SECRET_KEY"):
        assert str(app.config[name]) not in body
