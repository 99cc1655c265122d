"""What the bank sends is checked before anything is booked: a signed notification or a
statement line with a negative, zero, non-numeric, infinite or sub-fen amount is refused,
never booked (nor rounded, nor crashing), and never silently skipped."""
import json
from decimal import Decimal

import pytest
import requests

from app.extensions import db
from app.integrations.signing import sign_headers
from app.models import HumanTask, LedgerTxn, ProcessInstance
from app.services import escrow
from tests.escrow.conftest import deposit

PATH = "/api/v1/integrations/bank/notifications"
BAD_AMOUNTS = ["-5.00", "1.001", "0", "0.00", "abc", "NaN", "Infinity", "-Infinity", "", None, True, [1]]


def signed_post(client, app, payload):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = sign_headers(app.config["BANK_SECRET"], "bank", "POST", PATH, body)
    return lambda: client.post(PATH, data=body, headers={**headers, "Content-Type": "application/json"})


def booked():
    db.session.expire_all()
    return db.session.scalars(db.select(LedgerTxn).order_by(LedgerTxn.id)).all()


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_a_signed_notification_with_a_bad_amount_is_refused_and_books_nothing(setup, app, client, amount):
    account = setup["account"]
    tx = {"type": "transaction", "account_no": account.account_no, "serial": "SB0000000777", "direction": "credit",
          "amount": amount, "counterparty": "业主李四", "memo": "物业费"}
    send = signed_post(client, app, tx)
    refused = send()
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert set(refused.get_json()["fields"]) == {"amount"}
    assert booked() == [] and escrow.balance(account.id) == Decimal("0.00")
    again = send()  # the very same signed request: its nonce was not used up by the refusal
    assert again.status_code == 422 and again.get_json()["fields"] != {"signature": "replayed"}
    corrected = signed_post(client, app, {**tx, "amount": "5.00"})()
    assert corrected.get_json()["status"] == "posted"
    assert [t.amount for t in booked()] == [Decimal("5.00")]


def test_bad_serial_direction_or_status_are_refused_at_their_fields(setup, app, client):
    account = setup["account"]
    tx = {"type": "transaction", "account_no": account.account_no, "serial": "", "direction": "sideways",
          "amount": "10.00"}
    refused = signed_post(client, app, tx)()
    assert refused.status_code == 422 and set(refused.get_json()["fields"]) == {"serial", "direction"}
    status = signed_post(client, app, {"type": "instruction", "reference": "WY-D00000001", "status": "paid?"})()
    assert status.status_code == 422 and set(status.get_json()["fields"]) == {"status"}
    unknown = signed_post(client, app, {"type": "instruction", "reference": "WY-NEVER", "status": "success"})()
    assert unknown.status_code == 404
    not_json = signed_post(client, app, ["not", "an", "object"])()
    assert not_json.status_code == 422
    assert booked() == []


@pytest.mark.parametrize("amount", ["-5.00", "1.001", "0", "abc", "NaN"])
def test_a_malformed_statement_line_stops_the_pull_before_it_and_opens_a_case(setup, bank_url, login_as, amount):
    account = setup["account"]
    deposit(bank_url, account.account_no, "100.00")
    bad = requests.post(f"{bank_url}/_control/inject", json={"account_no": account.account_no,
                                                              "transaction": {"amount": amount}}, timeout=5).json()
    deposit(bank_url, account.account_no, "200.00")  # after the bad line: not booked while it is unresolved

    assert escrow.pull_statement(account) == 1
    assert [t.amount for t in booked()] == [Decimal("100.00")]
    assert escrow.pull_statement(db.session.get(type(account), account.id)) == 0  # stops at it again, skips nothing
    assert db.session.get(type(account), account.id).statement_cursor == 0  # not moved past the bad line
    cases = db.session.scalars(db.select(ProcessInstance).where(
        ProcessInstance.model_key == "escrow_reconciliation")).all()
    assert len(cases) == 1 and bad["serial"] in cases[0].title and "入账已暂停" in cases[0].title
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == cases[0].id))
    assert task.role == "housing_center"
    assert bad["serial"] in login_as("housing_center").get("/inbox").get_data(as_text=True)
    assert login_as("enterprise").get(f"/tasks/{task.id}").status_code == 404

    requests.post(f"{bank_url}/_control/correct", json={"account_no": account.account_no, "serial": bad["serial"],
                                                        "amount": "5.00"}, timeout=5)
    assert escrow.pull_statement(db.session.get(type(account), account.id)) == 2
    assert sorted(t.amount for t in booked()) == [Decimal("5.00"), Decimal("100.00"), Decimal("200.00")]
    assert escrow.reconcile(db.session.get(type(account), account.id)).ok
