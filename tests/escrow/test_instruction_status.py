"""A payment instruction from send to its final result: a "processing" one is polled (never
sent again) until the bank settles it, "unknown" is polled again; a failure or a returned
payment leaves the ledger alone, goes back to the housing center with the bank's reason,
and can be decided again without ever paying twice."""
from decimal import Decimal

import pytest

from app.engine import registry, runtime
from app.extensions import db
from app.models import BankInstruction, DisbursementRequest, LedgerTxn, ProcessInstance, ServiceCall
from app.services import escrow
from app.services.errors import Conflict
from tests.escrow.conftest import (approve_a_disbursement, bank_balance, bank_instruction, control, deposit,
                                   open_task)


def disbursements():
    return db.session.scalar(db.select(db.func.count(LedgerTxn.id)).where(LedgerTxn.kind == "disbursement"))


def polls():
    return db.session.scalar(db.select(db.func.count(ServiceCall.id)).where(
        ServiceCall.operator == "escrow.poll_instruction"))


def state(req):
    db.session.expire_all()
    request = db.session.get(DisbursementRequest, req.id)
    return request, db.session.get(ProcessInstance, request.instance_id)


def test_a_processing_instruction_is_polled_until_the_bank_settles_it(setup, bank_url, factory, clock):
    account = setup["account"]
    control(bank_url, "auto-settle", on=False)
    req = approve_a_disbursement(setup, bank_url, factory)
    request, instance = state(req)
    instruction = db.session.scalar(db.select(BankInstruction))
    assert instruction.status == "processing" and request.status == "approved" and instance.status == "waiting"
    assert disbursements() == 0 and escrow.balance(account.id) == Decimal("180000.00")

    assert clock.advance(minutes=4) == 0  # polled every 5 minutes
    assert clock.advance(minutes=2) == 1
    assert polls() == 1 and state(req)[1].status == "waiting"  # still processing at the bank: wait again

    control(bank_url, "settle", reference=instruction.reference, result="unknown")  # the bank cannot tell yet
    clock.advance(minutes=6)
    assert polls() == 2 and state(req)[1].status == "waiting"
    assert bank_instruction(bank_url, instruction.reference)["sends"] == 1  # asked about, never sent again

    control(bank_url, "settle", reference=instruction.reference, result="success")
    clock.advance(minutes=6)
    request, instance = state(req)
    assert polls() == 3 and request.status == "paid" and instance.status == "completed"
    assert "end_paid" in runtime.element_states(instance)["completed"]
    assert disbursements() == 1 and escrow.balance(account.id) == Decimal("50000.00")
    assert bank_balance(bank_url, account.account_no) == Decimal("50000.00")
    assert bank_instruction(bank_url, instruction.reference)["sends"] == 1


def test_insufficient_funds_goes_back_to_the_center_with_the_reason_and_pays_nothing(setup, bank_url, factory,
                                                                                    login_as):
    account = setup["account"]
    req = _funded_request(setup, bank_url, factory)
    control(bank_url, "debit", account_no=account.account_no, amount="100000.00", memo="法院扣划")  # bank side
    runtime.complete_task(open_task(req.instance_id, "review").id, {"decision": "approve", "comment": ""},
                          setup["center"])

    request, instance = state(req)
    instruction = db.session.scalar(db.select(BankInstruction))
    assert instruction.status == "failed" and instruction.last_error == "insufficient_funds"
    assert request.status == "failed" and instance.status == "running"
    assert disbursements() == 0 and escrow.balance(account.id) == Decimal("180000.00")  # ledger untouched
    task = open_task(instance.id)
    assert task.spec_id == "payment_failed" and task.role == "housing_center"

    enterprise = login_as("enterprise", org=setup["enterprise"])
    again = enterprise.post(f"/escrow/accounts/{account.id}", data={"year": request.year, "quarter": request.quarter},
                            follow_redirects=True)
    assert "每季度只能申请一次" in again.get_data(as_text=True)  # the quarter stays taken while the center decides
    assert enterprise.post(f"/tasks/{task.id}", data={"action": "complete", "decision": "reissue"}).status_code == 403

    center = login_as("housing_center")
    page = center.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert instruction.reference in page and "监管账户余额不足" in page and "130,000.00" in page
    missing = center.post(f"/tasks/{task.id}", data={"action": "complete", "decision": "cancel"})
    assert "不再拨付时须说明理由" in missing.get_data(as_text=True)
    center.post(f"/tasks/{task.id}", data={"action": "complete", "decision": "cancel", "comment": "账户被冻结扣划，待核实"})

    request, instance = state(req)
    assert instance.status == "completed" and request.status == "rejected" and request.active_key is None
    completed = runtime.element_states(instance)["completed"]
    assert "end_rejected" in completed and "end_paid" not in completed
    assert disbursements() == 0 and db.session.scalar(db.select(db.func.count(BankInstruction.id))) == 1
    assert bank_balance(bank_url, account.account_no) == Decimal("80000.00")


def test_a_returned_payment_is_sent_again_under_a_new_reference_and_paid_once(setup, bank_url, factory, login_as,
                                                                            clock):
    account = setup["account"]
    control(bank_url, "auto-settle", on=False)
    req = approve_a_disbursement(setup, bank_url, factory)
    first = db.session.scalar(db.select(BankInstruction))
    control(bank_url, "settle", reference=first.reference, result="returned", reason="account_closed")
    clock.advance(minutes=6)

    request, instance = state(req)
    db.session.refresh(first)
    assert first.status == "returned" and request.status == "failed" and disbursements() == 0
    task = open_task(instance.id, "payment_failed")
    center = login_as("housing_center")
    assert "收款账户已销户" in center.get(f"/tasks/{task.id}").get_data(as_text=True)
    control(bank_url, "auto-settle", on=True)
    center.post(f"/tasks/{task.id}", data={"action": "complete", "decision": "reissue", "comment": "企业已更正收款账户"})

    request, instance = state(req)
    instructions = db.session.scalars(db.select(BankInstruction).order_by(BankInstruction.id)).all()
    assert [(i.reference, i.status) for i in instructions] == [
        (first.reference, "returned"), (f"{first.reference}-2", "success")]
    assert request.status == "paid" and instance.status == "completed"
    assert "end_paid" in runtime.element_states(instance)["completed"]
    assert disbursements() == 1 and escrow.balance(account.id) == Decimal("50000.00")
    assert bank_balance(bank_url, account.account_no) == Decimal("50000.00")
    assert bank_instruction(bank_url, first.reference)["status"] == "returned"  # the old reference never pays

    ctx = registry.OperatorContext(instance.id, instance.business_key, "DisbursementRequest", request.id, "test")
    with pytest.raises(Conflict):  # deciding again once paid is refused: never a second payment
        escrow.reissue_instruction(ctx, first.id, "reissue")


def _funded_request(setup, bank_url, factory):
    account = setup["account"]
    deposit(bank_url, account.account_no, "180000.00")
    escrow.pull_statement(account)
    year, quarter = escrow.current_quarter()
    return escrow.request_disbursement(factory.user("enterprise", org=setup["enterprise"]), account.id, year,
                                       min(quarter, 3))
