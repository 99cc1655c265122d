"""Reconciliation compares the statement line by line, not only the balance: every bank
line booked once, no booked transaction the bank does not have. The daily reconcile and
the statement pull run as jobs on a real RQ worker."""
import json
from decimal import Decimal

import requests

from app import jobs
from app.extensions import db
from app.integrations.signing import sign_headers
from app.models import HumanTask, LedgerTxn, ProcessInstance
from app.services import escrow
from tests.engine.test_external_worker import run_worker
from tests.escrow.conftest import control, deposit

PATH = "/api/v1/integrations/bank/notifications"


def cases():
    db.session.expire_all()
    return db.session.scalars(db.select(ProcessInstance).where(ProcessInstance.model_key == "escrow_reconciliation")
                              .order_by(ProcessInstance.id)).all()


def test_a_statement_difference_opens_a_case_even_when_the_balances_agree(setup, bank_url, app, client, login_as):
    account = setup["account"]
    line = deposit(bank_url, account.account_no, "100.00")  # at the bank, not yet pulled
    phantom = json.dumps({"type": "transaction", "account_no": account.account_no, "serial": "SB8888888888",
                          "direction": "credit", "amount": "100.00", "counterparty": "业主"}).encode()
    headers = sign_headers(app.config["BANK_SECRET"], "bank", "POST", PATH, phantom)  # a line the bank never had
    client.post(PATH, data=phantom, headers={**headers, "Content-Type": "application/json"})
    assert escrow.balance(account.id) == Decimal("100.00")

    result = escrow.reconcile(account)
    assert result.difference == Decimal("0.00")  # the balances agree…
    assert [u["serial"] for u in result.unbooked] == [line["serial"]]  # …the statement does not
    assert result.not_at_bank == ["SB8888888888"] and not result.ok
    [case] = cases()
    assert "银行流水未入账 1 笔" in case.title and "台账有而银行无 1 笔" in case.title
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == case.id))
    center = login_as("housing_center")
    page = center.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert line["serial"] in page and "SB8888888888" in page
    escrow.reconcile(db.session.get(type(account), account.id))
    assert len(cases()) == 1  # open already: not a second case


def test_our_paid_instruction_matches_its_debit_on_the_statement(setup, bank_url, factory):
    from tests.escrow.conftest import approve_a_disbursement
    approve_a_disbursement(setup, bank_url, factory)
    result = escrow.reconcile(db.session.get(type(setup["account"]), setup["account"].id))
    assert result.ok and cases() == []
    control(bank_url, "debit", account_no=setup["account"].account_no, amount="12.50", memo="账户管理费")
    result = escrow.reconcile(db.session.get(type(setup["account"]), setup["account"].id))
    assert result.difference == Decimal("-12.50") and [u["amount"] for u in result.unbooked] == ["12.50"]


def test_pull_statements_and_reconcile_all_as_jobs_on_a_real_worker(redis_app, redis_url, database_url, tmp_path,
                                                                    setup, bank_url, factory):
    account = setup["account"]
    other = escrow.open_account({"community_id": factory.community(enterprise=setup["enterprise"]).id,
                                 "bank_id": setup["bank"].id, "payee_account_no": "6222021234567890128",
                                 "payee_name": "乾元物业"}, setup["center"])
    deposit(bank_url, account.account_no, "300.00")
    deposit(bank_url, other.account_no, "70.00")
    bad = requests.post(f"{bank_url}/_control/inject", json={"account_no": other.account_no,
                                                              "transaction": {"amount": "-70.00"}}, timeout=5).json()
    jobs.enqueue("workers.escrow.pull_statements", queue="bank")
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(LedgerTxn.id))) == 0  # queued, not run here
    run_worker(database_url, redis_url, bank_url, tmp_path)
    assert escrow.balance(account.id) == Decimal("300.00") and escrow.balance(other.id) == Decimal("70.00")
    [stopped] = cases()
    assert stopped.business_key == f"statement-{other.id}" and bad["serial"] in stopped.title

    control(bank_url, "debit", account_no=account.account_no, amount="20.00", memo="账户管理费")
    jobs.enqueue("workers.escrow.reconcile_all", queue="bank")
    db.session.commit()
    run_worker(database_url, redis_url, bank_url, tmp_path)
    found = {c.business_key: c for c in cases()}
    assert set(found) == {f"statement-{other.id}", f"reconcile-{account.id}", f"reconcile-{other.id}"}
    assert "对账差异 -20.00 元（银行流水未入账 1 笔" in found[f"reconcile-{account.id}"].title
    assert "银行流水未入账 1 笔" in found[f"reconcile-{other.id}"].title  # the malformed line, still unbooked
