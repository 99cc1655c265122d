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
