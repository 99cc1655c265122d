"""kill -9 of a real worker in the middle of posting a bank statement to the ledger: one
account's statement is posted, the next one's first page is inserted but not committed. After
the restart the periodic pull runs again (for the first account from the statement's start,
as if its cursor were lost): every bank transaction is in the ledger exactly once, balanced,
and each account's ledger agrees with the bank — nothing doubled, nothing lost.

To stop the worker at that exact point the test holds a row lock on the second account: the
worker inserts the page's ledger rows, then waits to move that account's statement cursor, and
is killed there."""
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app import jobs
from app.extensions import db
from app.models import EscrowAccount, LedgerEntry, LedgerTxn
from app.services import escrow
from tests.security.procs import kill9, run_worker, start_worker

pytestmark = pytest.mark.postgres_only  # the row lock and pg_stat_activity
PER_ACCOUNT = 1100  # three statement pages of at most 500


@pytest.fixture
def bank(app):
    from sandbox.bank import create_app as create_bank
    from sandbox.server import serve_in_thread
    sandbox = create_bank(key_id=app.config["BANK_KEY_ID"], secret=app.config["BANK_SECRET"])
    url, shutdown = serve_in_thread(sandbox)
    app.config["BANK_GATEWAY_URL"] = url
    yield url, sandbox.bank_state
    shutdown()


def ledger(account_id):
    rows = db.session.execute(db.select(db.func.count(LedgerTxn.id), db.func.count(db.distinct(LedgerTxn.bank_serial)),
                                        db.func.coalesce(db.func.sum(LedgerTxn.amount), 0))
                              .where(LedgerTxn.escrow_account_id == account_id)).one()
    return tuple(rows)


def waiting_for_the_lock(engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE 'UPDATE escrow_account%'")))


def test_a_worker_killed_mid_statement_pull_leaves_no_duplicate_and_no_missing_ledger_entry(
        redis_app, redis_url, database_url, tmp_path, bank, factory):
    bank_url, state = bank
    center = factory.user("housing_center")
    accounts = []
    for n in range(2):
        enterprise = factory.enterprise(name=f"物业{n}")
        community = factory.community(enterprise=enterprise, name=f"小区{n}")
        accounts.append(escrow.open_account({"community_id": community.id, "bank_id": factory.bank().id,
                                             "payee_account_no": "6222021234567890128", "payee_name": enterprise.name},
                                            center))
    expected = {}
    for account in accounts:
        amounts = [Decimal(f"{i % 500 + 1}.{i % 100:02d}") for i in range(PER_ACCOUNT)]
        for i, amount in enumerate(amounts):
            state.post(account.account_no, amount, "credit", f"业主{i}", f"物业费 {i}")
        expected[account.id] = (PER_ACCOUNT, PER_ACCOUNT, sum(amounts))
    first, second = accounts

    holder = sa.create_engine(database_url)
    lock = holder.connect()
    transaction = lock.begin()
    # FOR NO KEY UPDATE: the ledger rows' foreign keys to the account still go in; moving the cursor waits
    lock.execute(sa.text("SELECT id FROM escrow_account WHERE id = :id FOR NO KEY UPDATE"), {"id": second.id})
    env = {"BANK_GATEWAY_URL": bank_url, "BANK_TIMEOUT": "30"}
    jobs.enqueue("workers.escrow.pull_statements", queue="bank", durable=False)  # as the scheduler sends it
    db.session.commit()
    worker = start_worker(database_url, redis_url, tmp_path, **env)
    try:
        deadline = time.monotonic() + 120
        while not waiting_for_the_lock(holder):
            assert time.monotonic() < deadline, "the worker never reached the second account"
            assert worker.poll() is None, "the worker stopped"
            time.sleep(0.1)
        db.session.expire_all()
        assert ledger(first.id) == expected[first.id]  # the first account's statement is posted…
        assert ledger(second.id) == (0, 0, 0)  # …the second's first page is written but not committed
    finally:
        kill9(worker)  # mid-posting
        transaction.rollback()
        lock.close()
        holder.dispose()

    db.session.expire_all()
    assert ledger(second.id) == (0, 0, 0)  # the killed transaction left nothing
    assert db.session.get(EscrowAccount, second.id).statement_cursor == 0

    db.session.get(EscrowAccount, first.id).statement_cursor = 0  # and even a whole statement read again…
    jobs.enqueue("workers.escrow.pull_statements", queue="bank", durable=False)  # …by the scheduler's next tick
    db.session.commit()
    run_worker(database_url, redis_url, tmp_path, **env)
    for account in accounts:
        assert ledger(account.id) == expected[account.id], account.id
        entries = db.session.execute(db.select(LedgerEntry.book, db.func.count(), db.func.sum(LedgerEntry.amount))
                                     .where(LedgerEntry.escrow_account_id == account.id)
                                     .group_by(LedgerEntry.book)).all()
        assert {book: (n, total) for book, n, total in entries} == {
            "bank": (PER_ACCOUNT, expected[account.id][2]), "owners": (PER_ACCOUNT, -expected[account.id][2])}
        assert escrow.reconcile(db.session.get(EscrowAccount, account.id)).ok  # balance and statement agree with the bank
