"""The sandbox bank as a real HTTP server, through the bank client: signatures, idempotent
instructions, unknown outcomes on time-outs, statements."""
from decimal import Decimal

import pytest
import requests

from app.integrations.bank import BankClient, BankRejected, BankUnavailable
from app.integrations.signing import sign_headers
from sandbox.bank import create_app
from sandbox.server import serve_in_thread

SECRET = "test-bank-secret"


@pytest.fixture
def bank():
    url, shutdown = serve_in_thread(create_app("wuye", SECRET))
    yield url
    shutdown()


@pytest.fixture
def client(bank):
    return BankClient(bank, "wuye", SECRET, timeout=1)


def deposit(bank, account_no, amount):
    return requests.post(f"{bank}/_control/deposit", json={"account_no": account_no, "amount": amount}, timeout=5).json()


def test_unsigned_tampered_and_replayed_requests_are_refused(bank):
    assert requests.post(f"{bank}/accounts", json={"community_ref": "x"}, timeout=5).status_code == 401
    body = b'{"community_ref": "x", "account_name": "a"}'
    headers = sign_headers(SECRET, "wuye", "POST", "/accounts", body)
    tampered = requests.post(f"{bank}/accounts", data=b'{"community_ref": "y"}', headers=headers, timeout=5)
    assert tampered.status_code == 401 and tampered.json()["error"] == "bad_signature"
    assert requests.post(f"{bank}/accounts", data=body, headers=headers, timeout=5).status_code == 201
    replay = requests.post(f"{bank}/accounts", data=body, headers=headers, timeout=5)
    assert replay.status_code == 401 and replay.json()["error"] == "replayed"
    old = sign_headers(SECRET, "wuye", "POST", "/accounts", body, now=1_000_000)
    assert requests.post(f"{bank}/accounts", data=body, headers=old, timeout=5).json()["error"] == "expired"


def test_a_reference_is_paid_once_and_amounts_are_exact(bank, client):
    account = client.open_account("c-1", "吉首世纪华庭物业费监管账户")["account_no"]
    deposit(bank, account, "0.10")
    deposit(bank, account, "0.20")
    assert Decimal(client.balance(account)["balance"]) == Decimal("0.30")
    first = client.send_instruction("WY-1", account, "6222000000000001", "甲物业", Decimal("0.25"), "一季度拨付")
    again = client.send_instruction("WY-1", account, "6222000000000001", "甲物业", Decimal("0.25"), "一季度拨付")
    assert first["bank_ref"] == again["bank_ref"] and first["status"] == "success"
    assert Decimal(client.balance(account)["balance"]) == Decimal("0.05")
    with pytest.raises(BankRejected) as e:
        client.send_instruction("WY-1", account, "6222000000000001", "甲物业", Decimal("9.99"), "改金额")
    assert e.value.code == "reference_reused"
    with pytest.raises(TypeError):
        client.send_instruction("WY-2", account, "1", "x", 0.1, "float")


def test_a_time_out_is_an_unknown_outcome_and_the_retry_finds_the_instruction(bank, client):
    account = client.open_account("c-2", "账户")["account_no"]
    deposit(bank, account, "100.00")
    requests.post(f"{bank}/_control/timeout-next", json={"seconds": 2}, timeout=5)
    with pytest.raises(BankUnavailable):
        client.send_instruction("WY-T", account, "6222000000000001", "甲物业", Decimal("40.00"), "拨付")
    retry = client.send_instruction("WY-T", account, "6222000000000001", "甲物业", Decimal("40.00"), "拨付")
    assert retry["status"] == "success"
    assert Decimal(client.balance(account)["balance"]) == Decimal("60.00")  # paid once


def test_bank_down_and_insufficient_funds(bank, client):
    account = client.open_account("c-3", "账户")["account_no"]
    requests.post(f"{bank}/_control/down", timeout=5)
    with pytest.raises(BankUnavailable):
        client.balance(account)
    requests.post(f"{bank}/_control/up", timeout=5)
    result = client.send_instruction("WY-F", account, "6222000000000001", "甲物业", Decimal("1.00"), "拨付")
    assert result["status"] == "failed" and result["reason"] == "insufficient_funds"


def test_statement_pages_with_a_cursor_and_unique_serials(bank, client):
    account = client.open_account("c-4", "账户")["account_no"]
    for i in range(5):
        deposit(bank, account, f"{i + 1}.00")
    first = client.statement(account)
    assert len(first["transactions"]) == 5 and first["more"] is False
    serials = [t["serial"] for t in first["transactions"]]
    assert len(set(serials)) == 5
    deposit(bank, account, "9.00")
    after = client.statement(account, cursor=first["cursor"])
    assert [t["amount"] for t in after["transactions"]] == ["9.00"]
