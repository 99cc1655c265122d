"""Signing secrets come from the environment in production, and rotate without downtime."""
import json

import pytest

from app import config
from app.integrations.signing import sign_headers

PATH = "/api/v1/integrations/bank/notifications"


def post(client, secret, payload):
    body = json.dumps(payload).encode()
    headers = {**sign_headers(secret, "bank", "POST", PATH, body), "Content-Type": "application/json"}
    return client.post(PATH, data=body, headers=headers)


def test_old_and_new_keys_are_both_accepted_during_a_rotation(app, client):
    payload = {"type": "ping"}
    app.config["BANK_SECRET_PREVIOUS"] = app.config["BANK_SECRET"]
    app.config["BANK_SECRET"] = "the-new-key"
    assert post(client, "the-new-key", payload).status_code == 200
    assert post(client, app.config["BANK_SECRET_PREVIOUS"], payload).status_code == 200
    app.config["BANK_SECRET_PREVIOUS"] = None  # rotation finished
    assert post(client, "sandbox-bank-secret", payload).status_code == 401
    assert post(client, "someone-elses-key", payload).status_code == 401


def test_production_refuses_to_start_on_sandbox_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("WUYE_ENV", "production")
    for name in ("BANK_SECRET", "DEVICE_SECRET", "HOTLINE_SECRET", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BANK_SECRET", "real")
    with pytest.raises(RuntimeError) as e:
        config.load(str(tmp_path))
    assert "DEVICE_SECRET" in str(e.value) and "SECRET_KEY" in str(e.value) and "real" not in str(e.value)


def test_error_pages_never_show_configuration(app, client, login_as):
    body = login_as("admin").get("/no-such-page").get_data(as_text=True)
    for name in ("BANK_SECRET", "SECRET_KEY"):
        assert str(app.config[name]) not in body
