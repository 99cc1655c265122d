"""Escrow jobs: pull bank statements into the ledger, reconcile balances and statements."""
import logging

from app.extensions import db
from app.integrations.bank import BankUnavailable
from app.models import EscrowAccount
from app.services import escrow

log = logging.getLogger(__name__)


def pull_statements() -> int:
    """Post every new bank transaction exactly once (safe to run at any time, twice too)."""
    posted = 0
    for account_id in db.session.scalars(db.select(EscrowAccount.id).order_by(EscrowAccount.id)).all():
        try:
            posted += escrow.pull_statement(db.session.get(EscrowAccount, account_id))
        except BankUnavailable as e:
            db.session.rollback()
            log.warning("statement of account %s not pulled: %s", account_id, e)
    return posted


def reconcile_all() -> int:
    """Daily: compare each account's ledger with the bank's balance and statement;
    differences open cases. Returns how many accounts differ."""
    differences = 0
    for account_id in db.session.scalars(db.select(EscrowAccount.id).order_by(EscrowAccount.id)).all():
        try:
            if not escrow.reconcile(db.session.get(EscrowAccount, account_id)).ok:
                differences += 1
        except BankUnavailable as e:
            db.session.rollback()
            log.warning("account %s not reconciled: %s", account_id, e)
    db.session.commit()
    return differences
