"""The bank instruction sent by a real RQ worker on Redis: the bank answers too late after
executing, the worker retries with the same reference, the money moves once."""
from decimal import Decimal

import requests

from app.extensions import db
from app.models import DisbursementRequest, LedgerTxn, ServiceCall
from tests.engine.test_external_worker import run_worker
from tests.escrow.conftest import approve_a_disbursement, bank_balance


def test_late_bank_answer_through_rq_pays_once(redis_app, redis_url, database_url, tmp_path, setup, bank_url, factory):
    account = setup["account"]
    req = approve_a_disbursement(setup, bank_url, factory)
    assert db.session.scalar(db.select(ServiceCall)).status == "pending"  # queued on Redis, not run in the request
    requests.post(f"{bank_url}/_control/timeout-next", json={"seconds": 3}, timeout=5)
    run_worker(database_url, redis_url, bank_url, tmp_path)

    call = db.session.scalar(db.select(ServiceCall))
    assert call.status == "succeeded" and call.attempts == 2
    assert db.session.get(DisbursementRequest, req.id).status == "paid"
    assert bank_balance(bank_url, account.account_no) == Decimal("50000.00")
    assert db.session.scalar(db.select(db.func.count(LedgerTxn.id)).where(LedgerTxn.kind == "disbursement")) == 1
