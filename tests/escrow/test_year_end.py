"""Year-end settlement: release by score, the owners' committee decides where the cut goes,
the bank executes both transfers, and the ledger follows."""
from decimal import Decimal

import pytest

from app.engine.deploy import deploy
from app.extensions import db
from app.models import BankInstruction, HumanTask, LedgerTxn, ProcessInstance
from app.services import escrow
from tests.escrow.conftest import BPMN, bank_balance, deposit


@pytest.fixture
def year_end(app):
    deploy("year_end_settlement", (BPMN / "year_end_settlement.bpmn").read_text(encoding="utf-8"))


def funded(setup, bank_url, amount="50000.00"):
    account = setup["account"]
    deposit(bank_url, account.account_no, amount)
    escrow.pull_statement(db.session.get(type(account), account.id))
    return account


def test_score_80_on_50000_cuts_10000_and_the_committee_sends_it_to_the_maintenance_fund(
        setup, bank_url, year_end, login_as, factory, app):
    account = funded(setup, bank_url)
    instance = escrow.start_year_end(account.id, 2026, "80", setup["center"])
    release = db.session.scalar(db.select(BankInstruction).where(BankInstruction.kind == "year_end_release"))
    assert release.amount == Decimal("40000.00") and release.status == "success"
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.status == "open"))
    assert task.name == "决定扣减资金用途" and task.role == "owners_committee"

    other_committee = login_as("owners_committee")
    assert other_committee.get(f"/tasks/{task.id}").status_code == 404
    committee = login_as("owners_committee", org=factory.committee(setup["community"]))
    missing = committee.post(f"/tasks/{task.id}", data={"action": "complete", "destination": "infrastructure",
                                                        "resolution": "业主大会决议", "to_account": "123"})
    assert "用于基础建设时须填写有效的收款账号" in missing.get_data(as_text=True)
    committee.post(f"/tasks/{task.id}", data={"action": "complete", "destination": "maintenance_fund",
                                              "resolution": "2026 年第二次业主大会决议"})
    cut = db.session.scalar(db.select(BankInstruction).where(BankInstruction.kind == "cut_maintenance_fund"))
    assert cut.amount == Decimal("10000.00") and cut.to_account == app.config["MAINTENANCE_FUND_ACCOUNT"]
    assert cut.status == "success"
    assert db.session.get(ProcessInstance, instance.id).status == "completed"
    assert escrow.balance(account.id) == Decimal("0.00") == bank_balance(bank_url, account.account_no)
    kinds = sorted(t.kind for t in db.session.scalars(db.select(LedgerTxn)))
    assert kinds == ["cut_maintenance_fund", "owner_payment", "year_end_release"]


def test_score_100_or_more_releases_everything_without_a_committee_task(setup, bank_url, year_end):
    account = funded(setup, bank_url, "12345.67")
    instance = escrow.start_year_end(account.id, 2026, "102", setup["center"])
    assert db.session.get(ProcessInstance, instance.id).status == "completed"
    assert escrow.balance(account.id) == Decimal("0.00")
    assert db.session.scalar(db.select(db.func.count(HumanTask.id))) == 0


def test_the_cut_for_community_infrastructure_is_executed_through_the_bank(setup, bank_url, year_end, login_as,
                                                                           factory):
    import requests
    account = funded(setup, bank_url, "20000.00")
    instance = escrow.start_year_end(account.id, 2026, "90", setup["center"])  # cut 10 %: 2 000.00
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.status == "open"))
    committee = login_as("owners_committee", org=factory.committee(setup["community"]))
    committee.post(f"/tasks/{task.id}", data={"action": "complete", "destination": "infrastructure",
                                              "resolution": "业主大会决议：用于更换小区路灯",
                                              "to_account": "6222021234567890128", "to_name": "世纪华庭业主委员会"})
    cut = db.session.scalar(db.select(BankInstruction).where(BankInstruction.kind == "cut_infrastructure"))
    assert cut.amount == Decimal("2000.00") and cut.status == "success"
    at_bank = next(i for i in requests.get(f"{bank_url}/_control/state", timeout=5).json()["instructions"]
                   if i["reference"] == cut.reference)
    assert (at_bank["to_account"], at_bank["to_name"], at_bank["amount"], at_bank["status"]) == (
        "6222021234567890128", "世纪华庭业主委员会", "2000.00", "success")
    assert db.session.get(ProcessInstance, instance.id).status == "completed"
    txn = db.session.scalar(db.select(LedgerTxn).where(LedgerTxn.kind == "cut_infrastructure"))
    assert sorted((e.book, e.amount) for e in txn.entries) == [("bank", Decimal("-2000.00")),
                                                               ("infrastructure", Decimal("2000.00"))]
    assert escrow.balance(account.id) == Decimal("0.00") == bank_balance(bank_url, account.account_no)


def test_a_returned_year_end_release_goes_back_to_the_center_and_is_paid_once(setup, bank_url, year_end, login_as,
                                                                              clock):
    from tests.escrow.conftest import control, open_task
    account = funded(setup, bank_url, "12345.67")
    control(bank_url, "auto-settle", on=False)
    instance = escrow.start_year_end(account.id, 2026, "100", setup["center"])
    release = db.session.scalar(db.select(BankInstruction))
    assert release.status == "processing" and db.session.get(ProcessInstance, instance.id).status == "waiting"
    control(bank_url, "settle", reference=release.reference, result="returned")
    clock.advance(minutes=6)
    task = open_task(instance.id)
    assert task.spec_id == "release_failed" and task.role == "housing_center"
    assert escrow.balance(account.id) == Decimal("12345.67")  # nothing booked for a returned payment
    control(bank_url, "auto-settle", on=True)
    login_as("housing_center").post(f"/tasks/{task.id}", data={"action": "complete", "decision": "reissue",
                                                                "comment": "收款账户已更正"})
    db.session.expire_all()
    assert [(i.reference, i.status) for i in db.session.scalars(db.select(BankInstruction).order_by(BankInstruction.id))] \
        == [(release.reference, "returned"), (f"{release.reference}-2", "success")]
    assert db.session.get(ProcessInstance, instance.id).status == "completed"
    assert escrow.balance(account.id) == Decimal("0.00") == bank_balance(bank_url, account.account_no)
    assert db.session.scalar(db.select(db.func.count(LedgerTxn.id)).where(LedgerTxn.kind == "year_end_release")) == 1
