"""Quarterly disbursement end to end, the policy's numbers, and every fault the issue names."""
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests

from app.engine import runtime
from app.extensions import db
from app.integrations.signing import sign_headers
from app.models import BankInstruction, DisbursementRequest, HumanTask, LedgerTxn, ProcessInstance, ServiceCall
from app.services import escrow
from tests.escrow.conftest import bank_balance, deposit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def pull(account):
    escrow.pull_statement(db.session.get(type(account), account.id))


def review_task(request_id):
    req = db.session.get(DisbursementRequest, request_id)
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == req.instance_id,
                                                        HumanTask.spec_id == "review"))


def test_policy_examples_for_the_floor_and_the_year_end_cut(setup, bank_url):
    account = setup["account"]
    assert escrow.bond_floor(account) == Decimal("50000.00")  # 5 % of 1 000 000.00
    deposit(bank_url, account.account_no, "180000.00")
    pull(account)
    assert escrow.balance(account.id) == Decimal("180000.00")
    assert escrow.payable_now(account) == Decimal("130000.00")
    assert escrow.year_end_split(Decimal("50000.00"), Decimal("80")) == (Decimal("40000.00"), Decimal("10000.00"))
    assert escrow.year_end_split(Decimal("50000.00"), Decimal("101.5")) == (Decimal("50000.00"), Decimal("0.00"))
    assert escrow.year_end_split(Decimal("0.03"), Decimal("50")) == (Decimal("0.01"), Decimal("0.02"))  # half up


def test_below_the_floor_nothing_is_paid(setup, bank_url, login_as):
    account = setup["account"]
    deposit(bank_url, account.account_no, "40000.00")
    pull(account)
    client = login_as("enterprise", org=setup["enterprise"])
    year, quarter = escrow.current_quarter()
    body = client.post(f"/escrow/accounts/{account.id}", data={"year": year, "quarter": min(quarter, 3)},
                       follow_redirects=True).get_data(as_text=True)
    assert "未超过履约保证金下限" in body
    assert db.session.scalar(db.select(db.func.count(DisbursementRequest.id))) == 0


def test_q4_other_enterprise_and_second_request_are_refused(setup, bank_url, login_as, factory):
    account = setup["account"]
    deposit(bank_url, account.account_no, "180000.00")
    pull(account)
    client = login_as("enterprise", org=setup["enterprise"])
    year, quarter = escrow.current_quarter()
    q4 = client.post(f"/escrow/accounts/{account.id}", data={"year": year, "quarter": 4}).get_data(as_text=True)
    assert "第四季度不予拨付" in q4
    other = login_as("enterprise")
    assert other.get(f"/escrow/accounts/{account.id}").status_code == 404
    assert other.post(f"/escrow/accounts/{account.id}", data={"year": year, "quarter": 1}).status_code == 404
    first = client.post(f"/escrow/accounts/{account.id}", data={"year": year, "quarter": min(quarter, 3)},
                        follow_redirects=True)
    assert "支付申请已提交，应拨付 130000.00 元" in first.get_data(as_text=True)
    second = client.post(f"/escrow/accounts/{account.id}", data={"year": year, "quarter": min(quarter, 3)},
                         follow_redirects=True)
    assert "每季度只能申请一次" in second.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(DisbursementRequest.id))) == 1


def test_request_approval_instruction_and_ledger(setup, bank_url, login_as, factory):
    account = setup["account"]
    deposit(bank_url, account.account_no, "180000.00")
    pull(account)
    enterprise = login_as("enterprise", org=setup["enterprise"])
    year, quarter = escrow.current_quarter()
    enterprise.post(f"/escrow/accounts/{account.id}", data={"year": year, "quarter": min(quarter, 3)})
    req = db.session.scalar(db.select(DisbursementRequest))
    task = review_task(req.id)
    center = login_as("housing_center")
    assert "审批拨付申请" in center.get("/inbox").get_data(as_text=True)
    no_reason = center.post(f"/tasks/{task.id}", data={"action": "complete", "decision": "reject"})
    assert "不予拨付时须说明理由" in no_reason.get_data(as_text=True)
    center.post(f"/tasks/{task.id}", data={"action": "complete", "decision": "approve", "comment": "同意"})

    req = db.session.get(DisbursementRequest, req.id)
    instruction = db.session.scalar(db.select(BankInstruction))
    assert req.status == "paid" and instruction.status == "success" and instruction.amount == Decimal("130000.00")
    assert escrow.balance(account.id) == Decimal("50000.00") == bank_balance(bank_url, account.account_no)
    assert db.session.get(ProcessInstance, req.instance_id).status == "completed"
    kinds = [t.kind for t in db.session.scalars(db.select(LedgerTxn).order_by(LedgerTxn.id))]
    assert kinds == ["owner_payment", "disbursement"]
    for txn in db.session.scalars(db.select(LedgerTxn)):
        assert sum(e.amount for e in txn.entries) == 0

    bank_user = login_as("bank", org=setup["bank"])
    assert instruction.reference in bank_user.get("/escrow/instructions").get_data(as_text=True)
    other_bank = login_as("bank")
    assert instruction.reference not in other_bank.get("/escrow/instructions").get_data(as_text=True)
    page = enterprise.get(f"/escrow/accounts/{account.id}").get_data(as_text=True)
    assert "已拨付" in page and "50,000.00" in page
    street = login_as("street_office")
    assert street.get(f"/escrow/accounts/{account.id}").status_code == 404
    assert account.account_no not in login_as("street_office", org=setup["community"].street_office).get(
        f"/escrow/accounts/{account.id}").get_data(as_text=True)  # masked for those who don't need it


def test_the_review_is_due_in_five_working_days_across_national_day_and_escalates(setup, bank_url, login_as, factory):
    from app.engine import calendar
    account = setup["account"]
    deposit(bank_url, account.account_no, "180000.00")
    pull(account)
    calendar.set_clock(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    try:
        user = factory.user("enterprise", org=setup["enterprise"])
        req = escrow.request_disbursement(user, account.id, 2025, 3)
        task = review_task(req.id)
        assert task.due_at == datetime(2025, 10, 14, 9, 0, tzinfo=SHANGHAI)
        calendar.set_clock(datetime(2025, 10, 14, 9, 30, tzinfo=SHANGHAI))
        assert runtime.advance_due_timers() == 1
        open_names = set(db.session.scalars(db.select(HumanTask.name).where(
            HumanTask.instance_id == req.instance_id, HumanTask.status == "open")))
        assert open_names == {"审批拨付申请", "督办：拨付审批已超期"}  # the review stays open
        center = login_as("housing_center")
        assert 'data-testid="badge-overdue"' in center.get("/inbox").get_data(as_text=True)
    finally:
        calendar.set_clock(None)


def test_amount_rules(app):
    from app.services.errors import ValidationFailed
    for bad in ("abc", "-1", "0", "1.001", "NaN", "Infinity"):
        with pytest.raises(ValidationFailed):
            escrow.parse_amount(bad)
    assert escrow.parse_amount("12.50") == Decimal("12.50")


def test_bank_times_out_after_executing_and_the_retry_pays_once(app, setup, bank_url, factory):
    account = setup["account"]
    app.config["BANK_TIMEOUT"] = 1  # the bank answers the next instruction after 2 s: too late
    deposit(bank_url, account.account_no, "180000.00")
    pull(account)
    req = escrow.request_disbursement(factory.user("enterprise", org=setup["enterprise"]), account.id,
                                      *_open_quarter())
    requests.post(f"{bank_url}/_control/timeout-next", json={"seconds": 2}, timeout=5)
    runtime.complete_task(review_task(req.id).id, {"decision": "approve", "comment": ""}, setup["center"])
    call = db.session.scalar(db.select(ServiceCall).where(ServiceCall.operator == "escrow.send_instruction"))
    assert call.status == "succeeded" and call.attempts == 2  # first attempt timed out: unknown, retried
    assert bank_balance(bank_url, account.account_no) == Decimal("50000.00")  # paid once
    assert db.session.scalar(db.select(db.func.count(LedgerTxn.id)).where(LedgerTxn.kind == "disbursement")) == 1
    assert escrow.balance(account.id) == Decimal("50000.00")


def test_bank_down_becomes_an_incident_and_the_retry_never_pays_twice(setup, bank_url, factory, login_as):
    account = setup["account"]
    deposit(bank_url, account.account_no, "180000.00")
    pull(account)
    req = escrow.request_disbursement(factory.user("enterprise", org=setup["enterprise"]), account.id,
                                      *_open_quarter())
    requests.post(f"{bank_url}/_control/down", timeout=5)
    runtime.complete_task(review_task(req.id).id, {"decision": "approve", "comment": ""}, setup["center"])
    instance = db.session.get(ProcessInstance, req.instance_id)
    assert instance.status == "error" and instance.incident_task == "发送支付指令"
    requests.post(f"{bank_url}/_control/up", timeout=5)
    login_as("housing_center").post(f"/cases/{instance.id}/retry")
    assert db.session.get(ProcessInstance, instance.id).status == "completed"
    login_as("housing_center").post(f"/cases/{instance.id}/retry")  # a second click: nothing to retry
    assert bank_balance(bank_url, account.account_no) == Decimal("50000.00")
    assert db.session.scalar(db.select(db.func.count(LedgerTxn.id)).where(LedgerTxn.kind == "disbursement")) == 1


def test_worker_killed_between_sending_and_recording(setup, bank_url, factory, app):
    """The instruction reached the bank but the worker died before recording: the sweep
    re-runs the call with the same reference; the bank answers with the executed one."""
    from datetime import timedelta
    from app.integrations.bank import client_from_config
    from app.models.base import utcnow
    account = setup["account"]
    deposit(bank_url, account.account_no, "180000.00")
    pull(account)
    req = escrow.request_disbursement(factory.user("enterprise", org=setup["enterprise"]), account.id,
                                      *_open_quarter())
    requests.post(f"{bank_url}/_control/down", timeout=5)
    runtime.complete_task(review_task(req.id).id, {"decision": "approve", "comment": ""}, setup["center"])
    requests.post(f"{bank_url}/_control/up", timeout=5)
    instruction = db.session.scalar(db.select(BankInstruction))
    client_from_config(app.config).send_instruction(instruction.reference, account.account_no,
                                                     instruction.to_account, instruction.to_name,
                                                     instruction.amount, instruction.purpose)  # the lost send
    call = db.session.scalar(db.select(ServiceCall).where(ServiceCall.operator == "escrow.send_instruction"))
    call.status, call.updated_at = "running", utcnow() - timedelta(hours=1)
    instance = db.session.get(ProcessInstance, req.instance_id)
    instance.status, instance.incident = "waiting", None
    db.session.commit()
    assert runtime.requeue_stuck_calls() == 1
    assert bank_balance(bank_url, account.account_no) == Decimal("50000.00")
    assert db.session.scalar(db.select(db.func.count(LedgerTxn.id)).where(LedgerTxn.kind == "disbursement")) == 1
    assert db.session.get(DisbursementRequest, req.id).status == "paid"


def _open_quarter():
    year, quarter = escrow.current_quarter()
    return year, min(quarter, 3)


def notify(client, app, payload, headers=None):
    import json
    body = json.dumps(payload).encode()
    headers = headers or sign_headers(app.config["BANK_SECRET"], "bank", "POST",
                                      "/api/v1/integrations/bank/notifications", body)
    return client.post("/api/v1/integrations/bank/notifications", data=body,
                       headers={**headers, "Content-Type": "application/json"}), headers


def test_bank_notifications_forged_replayed_and_duplicated(setup, app, client):
    account = setup["account"]
    tx = {"type": "transaction", "account_no": account.account_no, "serial": "SB0000009999", "direction": "credit",
          "amount": "1200.00", "counterparty": "业主李四", "memo": "物业费"}
    import json
    unsigned = client.post("/api/v1/integrations/bank/notifications", json=tx)
    assert unsigned.status_code == 401 and unsigned.get_json()["error"] == "bad_signature"
    forged = sign_headers("wrong-secret", "bank", "POST", "/api/v1/integrations/bank/notifications",
                          json.dumps(tx).encode())
    assert notify(client, app, tx, forged)[0].status_code == 401
    old = sign_headers(app.config["BANK_SECRET"], "bank", "POST", "/api/v1/integrations/bank/notifications",
                       json.dumps(tx).encode(), now=1_000_000)
    assert notify(client, app, tx, old)[0].status_code == 401
    assert escrow.balance(account.id) == Decimal("0.00")
    ok, headers = notify(client, app, tx)
    assert ok.get_json()["status"] == "posted"
    replay, _ = notify(client, app, tx, headers)
    assert replay.status_code == 401 and replay.get_json()["fields"]["signature"] == "replayed"
    duplicate, _ = notify(client, app, tx)  # a fresh signature, the same bank serial
    assert duplicate.get_json()["status"] == "ignored"
    assert escrow.balance(account.id) == Decimal("1200.00")


def test_reconciliation_difference_opens_a_case(setup, bank_url, login_as):
    account = setup["account"]
    deposit(bank_url, account.account_no, "500.00")  # not yet pulled into the ledger
    assert escrow.reconcile(account).difference == Decimal("500.00")
    escrow.reconcile(account)  # the case is open already: no second one
    cases = db.session.scalars(db.select(ProcessInstance).where(ProcessInstance.model_key == "escrow_reconciliation")).all()
    assert len(cases) == 1 and "500.00" in cases[0].title
    assert "核对监管账户差异" in login_as("housing_center").get("/inbox").get_data(as_text=True)
    pull(account)
    result = escrow.reconcile(account)
    assert result.difference == Decimal("0.00") and result.ok


def test_statement_pull_posts_each_transaction_once(setup, bank_url):
    account = setup["account"]
    deposit(bank_url, account.account_no, "100.00")
    deposit(bank_url, account.account_no, "0.10", payer="乾元物业")  # the enterprise's offline fees
    pull(account)
    pull(account)
    kinds = sorted(t.kind for t in db.session.scalars(db.select(LedgerTxn)))
    assert kinds == ["offline_deposit", "owner_payment"]
    assert escrow.balance(account.id) == Decimal("100.10")
