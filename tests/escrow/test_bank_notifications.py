"""The sandbox bank started with a notify URL sends its signed notifications over HTTP to
Wuye served on a real port: an incoming payment is booked once however often it is sent;
a forged signature, an old timestamp and a replayed nonce are refused; an instruction the
bank settles later completes its case through the notification. With a real RQ worker
pulling statements and sending instructions meanwhile, nothing is booked twice."""
import os
import signal
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from redis import Redis

from app import jobs
from app.extensions import db
from app.models import BankInstruction, DisbursementRequest, LedgerTxn, ProcessInstance
from app.services import escrow
from tests.escrow.conftest import (approve_a_disbursement, bank_balance, bank_instruction, control, deposit,
                                   eventually, open_task)


def receipts():
    return db.session.scalars(db.select(LedgerTxn).where(LedgerTxn.kind == "owner_payment")).all()


def test_a_notified_payment_is_booked_once_and_forged_old_or_replayed_ones_are_refused(setup, wuye_url, bank_url):
    account = setup["account"]
    tx = deposit(bank_url, account.account_no, "1200.00")
    eventually(lambda: len(receipts()) == 1)
    assert receipts()[0].bank_serial == tx["serial"] and escrow.balance(account.id) == Decimal("1200.00")

    duplicate = control(bank_url, "renotify", serial=tx["serial"])["answers"]
    assert [(a["status_code"], a["body"]["status"]) for a in duplicate] == [(200, "ignored")]

    phantom = {"type": "transaction", "account_no": account.account_no, "serial": "SB9999999999",
               "direction": "credit", "amount": "999.00", "counterparty": "业主", "memo": "物业费"}
    forged = control(bank_url, "notify", payload=phantom, tamper="signature")["answers"]
    assert [(a["status_code"], a["body"]["fields"]) for a in forged] == [(401, {"signature": "bad_signature"})]
    old = control(bank_url, "notify", payload=phantom, tamper="expired")["answers"]
    assert [(a["status_code"], a["body"]["fields"]) for a in old] == [(401, {"signature": "expired"})]
    replayed = control(bank_url, "notify", payload={**tx, "type": "transaction"}, tamper="replay")["answers"]
    assert [a["status_code"] for a in replayed] == [200, 401]
    assert replayed[0]["body"]["status"] == "ignored" and replayed[1]["body"]["fields"] == {"signature": "replayed"}

    db.session.expire_all()
    assert [t.bank_serial for t in db.session.scalars(db.select(LedgerTxn))] == [tx["serial"]]
    assert escrow.balance(account.id) == Decimal("1200.00") == bank_balance(bank_url, account.account_no)


def test_an_instruction_the_bank_settles_later_completes_its_case_by_the_notification(setup, wuye_url, bank_url,
                                                                                      factory):
    account = setup["account"]
    control(bank_url, "auto-notify", on=False)  # the deposit is pulled, not notified
    control(bank_url, "auto-settle", on=False)
    req = approve_a_disbursement(setup, bank_url, factory)
    control(bank_url, "flush-notifications")  # the deposit's notification after the pull: a duplicate, ignored
    control(bank_url, "auto-notify", on=True)
    instruction = db.session.scalar(db.select(BankInstruction))
    assert instruction.status == "processing"
    instance_id = db.session.get(DisbursementRequest, req.id).instance_id
    assert db.session.get(ProcessInstance, instance_id).status == "waiting"

    control(bank_url, "settle", reference=instruction.reference, result="success")  # notified to Wuye
    eventually(lambda: db.session.get(ProcessInstance, instance_id).status == "completed")
    assert db.session.get(DisbursementRequest, req.id).status == "paid"
    assert db.session.get(BankInstruction, instruction.id).status == "success"
    assert db.session.scalar(db.select(db.func.count(LedgerTxn.id)).where(LedgerTxn.kind == "disbursement")) == 1
    assert escrow.balance(account.id) == Decimal("50000.00") == bank_balance(bank_url, account.account_no)
    assert bank_instruction(bank_url, instruction.reference)["sends"] == 1


@pytest.fixture
def running_worker(app, redis_url, database_url, tmp_path, bank_url):
    """A real RQ worker process on Redis for the whole test (stopped at the end)."""
    Redis.from_url(redis_url).flushdb()
    app.config["REDIS_URL"] = redis_url
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path),
           "SECRET_KEY": "test", "FLASK_APP": "app", "BANK_GATEWAY_URL": bank_url, "BANK_TIMEOUT": "5",
           "ENGINE_RETRY_BASE_SECONDS": "0", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "worker"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield worker
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(timeout=30)
    app.config["REDIS_URL"] = None
    Redis.from_url(redis_url).flushdb()


def test_notifications_racing_the_workers_pulls_and_sends_book_everything_once(setup, wuye_url, bank_url, factory,
                                                                                running_worker):
    account = setup["account"]
    _pull_by_the_worker()  # the worker is up
    control(bank_url, "auto-notify", on=False)
    amounts = [Decimal(f"{1000 + i}.{i:02d}") for i in range(40)]
    for amount in amounts:
        deposit(bank_url, account.account_no, str(amount))
    flush = threading.Thread(target=control, args=(bank_url, "flush-notifications"))
    jobs.enqueue("workers.escrow.pull_statements", queue="bank")
    db.session.commit()
    flush.start()  # the 40 notifications arrive while the worker pulls the same 40 lines
    for _ in range(3):
        jobs.enqueue("workers.escrow.pull_statements", queue="bank")
        db.session.commit()
    flush.join()
    control(bank_url, "auto-notify", on=True)
    eventually(lambda: len(receipts()) == len(amounts) and _queues_empty(), seconds=120)
    serials = [t.bank_serial for t in receipts()]
    assert len(set(serials)) == len(serials) == len(amounts)
    assert escrow.balance(account.id) == sum(amounts) == bank_balance(bank_url, account.account_no)

    deposit(bank_url, account.account_no, "180000.00")
    jobs.enqueue("workers.escrow.pull_statements", queue="bank")
    db.session.commit()
    eventually(lambda: escrow.balance(account.id) == sum(amounts) + Decimal("180000.00"), seconds=120)
    year, quarter = escrow.current_quarter()
    req = escrow.request_disbursement(factory.user("enterprise", org=setup["enterprise"]), account.id, year,
                                      min(quarter, 3))
    from app.engine import runtime
    runtime.complete_task(open_task(req.instance_id, "review").id, {"decision": "approve", "comment": ""},
                          setup["center"])  # the worker sends it; the bank settles at once and notifies too
    eventually(lambda: db.session.get(ProcessInstance, req.instance_id).status == "completed", seconds=120)
    payable = sum(amounts) + Decimal("180000.00") - Decimal("50000.00")
    assert db.session.get(DisbursementRequest, req.id).status == "paid"
    assert [t.amount for t in db.session.scalars(db.select(LedgerTxn).where(LedgerTxn.kind == "disbursement"))] == [
        payable]
    assert escrow.balance(account.id) == Decimal("50000.00") == bank_balance(bank_url, account.account_no)
    assert escrow.reconcile(db.session.get(type(account), account.id)).ok


def _pull_by_the_worker():
    jobs.enqueue("workers.escrow.pull_statements", queue="bank")
    db.session.commit()
    eventually(_queues_empty, seconds=120)


def _queues_empty() -> bool:
    from rq import Queue
    connection = jobs.redis_connection()
    return all(Queue(name, connection=connection).count == 0 for name in ("bank", "default"))
