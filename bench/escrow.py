"""Escrow benchmark: post 1 000 000 bank transactions for 1 000 communities into the ledger
(pulled from the sandbox bank over HTTP, posted exactly once in bulk) and reconcile every
account; prints posting throughput, reconciliation time and peak memory.

    .venv/bin/python bench/escrow.py [--accounts 1000] [--per-account 1000]

Runs the sandbox bank as a separate process and uses its own PostgreSQL database.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--per-account", type=int, default=1000)
    args = parser.parse_args()
    port = 18101
    bank = subprocess.Popen([sys.executable, "-m", "sandbox.bank", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    name = f"wuye_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                requests.get(f"{url}/_control/state", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        t0 = time.perf_counter()
        numbers = requests.post(f"{url}/_control/seed", json={"accounts": args.accounts,
                                                              "transactions": args.per_account}, timeout=3600).json()["accounts"]
        print(f"sandbox bank seeded: {args.accounts} accounts × {args.per_account} transactions "
              f"in {time.perf_counter() - t0:.1f} s")

        os.environ["INSTANCE_PATH"] = tempfile.mkdtemp()
        from flask_migrate import upgrade
        from app import create_app
        from app.extensions import db
        from app.models import Bank, Community, EscrowAccount, EscrowAgreement, StreetOffice
        from app.services import escrow
        from app.services.demo import demo_uscc
        from app.services.orgs import create_enterprise
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
                          "SECRET_KEY": "bench", "BANK_GATEWAY_URL": url, "BANK_TIMEOUT": 60})
        with app.app_context():
            upgrade(revision="heads")
            office = StreetOffice(name="基准街道")
            bank_row = Bank(name="基准银行", code="BENCH")
            db.session.add_all([office, bank_row])
            db.session.commit()
            enterprise = create_enterprise({"name": "基准物业", "uscc": demo_uscc(7)})
            for i, number in enumerate(numbers):
                community = Community(name=f"小区{i}", street_office_id=office.id, enterprise_id=enterprise.id,
                                      annual_receivable_fee=1000000)
                db.session.add(community)
                db.session.flush()
                agreement = EscrowAgreement(community_id=community.id, enterprise_id=enterprise.id, bank_id=bank_row.id,
                                            signed_on=time.strftime("%Y-%m-%d") and __import__("datetime").date.today(),
                                            starts_on=__import__("datetime").date.today())
                db.session.add(agreement)
                db.session.flush()
                db.session.add(EscrowAccount(agreement_id=agreement.id, community_id=community.id,
                                             enterprise_id=enterprise.id, bank_id=bank_row.id, account_no=number,
                                             account_name=f"小区{i}监管账户", payee_account_no="6222021234567890128",
                                             payee_name="基准物业"))
            db.session.commit()

            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            t0 = time.perf_counter()
            posted = 0
            for account_id in db.session.scalars(db.select(EscrowAccount.id).order_by(EscrowAccount.id)).all():
                posted += escrow.pull_statement(db.session.get(EscrowAccount, account_id))
                db.session.expunge_all()
            elapsed = time.perf_counter() - t0
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"posted {posted:,} transactions in {elapsed:.1f} s: {posted / elapsed:,.0f} postings/s "
                  f"(HTTP pull from the bank included); peak RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after")

            again = sum(escrow.pull_statement(db.session.get(EscrowAccount, a))
                        for a in db.session.scalars(db.select(EscrowAccount.id)).all())
            print(f"second pull posted {again} (exactly once)")

            from app.integrations.bank import client_from_config
            t0 = time.perf_counter()
            ledger = escrow.ledger_balances()
            client = client_from_config(app.config)
            differences = 0
            for account in db.session.scalars(db.select(EscrowAccount)):
                if __import__("decimal").Decimal(client.balance(account.account_no)["balance"]) != ledger.get(account.id):
                    differences += 1
            print(f"reconciled {len(ledger):,} accounts in {time.perf_counter() - t0:.1f} s, {differences} differences")
            print(f"peak RSS of the benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
            db.engine.dispose()
    finally:
        bank.terminate()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
