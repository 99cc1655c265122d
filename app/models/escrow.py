"""Escrow of property fees (policy 三(五) and the four-party agreement): agreements,
supervised accounts, a double-entry ledger, bank instructions and disbursement requests.

Balances are never stored: they are sums of ledger entries. Every ledger transaction's
entries sum to zero; the `bank` book of an account mirrors the money at the bank.
"""
from decimal import Decimal

from app.extensions import db
from app.models.base import Money, UTCDateTime, utcnow
from app.validators import mask

BigId = db.BigInteger().with_variant(db.Integer, "sqlite")


class EscrowAgreement(db.Model):
    """The four-party agreement (housing center, enterprise, bank, device supplier) for a community."""

    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    bank_id = db.Column(db.Integer, db.ForeignKey("bank.id"), nullable=False)
    device_supplier_id = db.Column(db.Integer, db.ForeignKey("device_supplier.id"))
    bond_rate = db.Column(db.Numeric(5, 4), nullable=False, default=Decimal("0.05"))
    signed_on = db.Column(db.Date, nullable=False)
    starts_on = db.Column(db.Date, nullable=False)
    ends_on = db.Column(db.Date)
    status = db.Column(db.String(20), nullable=False, default="active")  # active | ended
    pdf_attachment_id = db.Column(db.Integer, db.ForeignKey("attachment.id"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    community = db.relationship("Community")
    enterprise = db.relationship("Enterprise")
    bank = db.relationship("Bank")
    device_supplier = db.relationship("DeviceSupplier")


class EscrowAccount(db.Model):
    """The supervised account of one enterprise for one community at the custodian bank."""

    id = db.Column(db.Integer, primary_key=True)
    agreement_id = db.Column(db.Integer, db.ForeignKey("escrow_agreement.id"), nullable=False, unique=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    bank_id = db.Column(db.Integer, db.ForeignKey("bank.id"), nullable=False, index=True)
    account_no = db.Column(db.String(32), nullable=False, unique=True)
    account_name = db.Column(db.String(200), nullable=False)
    # Where disbursements go: the enterprise's own account.
    payee_account_no = db.Column(db.String(32), nullable=False)
    payee_name = db.Column(db.String(200), nullable=False)
    statement_cursor = db.Column(db.Integer, nullable=False, default=0)
    opened_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    lock_version = db.Column(db.Integer, nullable=False, default=1)

    agreement = db.relationship("EscrowAgreement")
    community = db.relationship("Community")
    enterprise = db.relationship("Enterprise")
    bank = db.relationship("Bank")

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def account_no_masked(self) -> str:
        return mask(self.account_no, 4, 4)


class LedgerTxn(db.Model):
    """One money movement; its entries sum to zero. `bank_serial` (a bank transaction)
    and `instruction_reference` (our payment) are unique, so nothing is posted twice."""

    id = db.Column(BigId, primary_key=True)
    escrow_account_id = db.Column(db.Integer, db.ForeignKey("escrow_account.id"), nullable=False, index=True)
    # owner_payment | offline_deposit | bond_topup | disbursement | year_end_release | cut_infrastructure
    # | cut_maintenance_fund | adjustment
    kind = db.Column(db.String(30), nullable=False)
    amount = db.Column(Money, nullable=False)
    memo = db.Column(db.String(300), nullable=False, default="")
    bank_serial = db.Column(db.String(64))
    instruction_reference = db.Column(db.String(64), unique=True)
    booked_at = db.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)

    entries = db.relationship("LedgerEntry", back_populates="txn", cascade="all, delete-orphan")

    __table_args__ = (db.UniqueConstraint("escrow_account_id", "bank_serial"),)


class LedgerEntry(db.Model):
    id = db.Column(BigId, primary_key=True)
    txn_id = db.Column(BigId, db.ForeignKey("ledger_txn.id"), nullable=False, index=True)
    escrow_account_id = db.Column(db.Integer, db.ForeignKey("escrow_account.id"), nullable=False)
    # bank (money held) | owners (fees owed to the service) | enterprise | infrastructure | maintenance_fund
    book = db.Column(db.String(30), nullable=False)
    amount = db.Column(Money, nullable=False)  # + debit, − credit

    txn = db.relationship("LedgerTxn", back_populates="entries")

    __table_args__ = (db.Index("ix_ledger_entry_account_book", "escrow_account_id", "book"),)


class BankInstruction(db.Model):
    """A payment instruction to the bank; `reference` is unique and sent with every retry."""

    id = db.Column(db.Integer, primary_key=True)
    reference = db.Column(db.String(64), nullable=False, unique=True)
    escrow_account_id = db.Column(db.Integer, db.ForeignKey("escrow_account.id"), nullable=False, index=True)
    bank_id = db.Column(db.Integer, db.ForeignKey("bank.id"), nullable=False, index=True)
    kind = db.Column(db.String(30), nullable=False)  # disbursement | year_end_release | cut_*
    amount = db.Column(Money, nullable=False)
    to_account = db.Column(db.String(32), nullable=False)
    to_name = db.Column(db.String(200), nullable=False)
    purpose = db.Column(db.String(300), nullable=False)
    # created | processing | success | failed | returned
    status = db.Column(db.String(20), nullable=False, default="created")
    bank_ref = db.Column(db.String(64))
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"))
    request_id = db.Column(db.Integer, db.ForeignKey("disbursement_request.id"))
    pdf_attachment_id = db.Column(db.Integer, db.ForeignKey("attachment.id"))
    last_error = db.Column(db.Text)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    settled_at = db.Column(UTCDateTime())

    escrow_account = db.relationship("EscrowAccount")
    bank = db.relationship("Bank")


class DisbursementRequest(db.Model):
    """A quarterly request (Q1–Q3) for the part of the balance above the bond floor."""

    id = db.Column(db.Integer, primary_key=True)
    escrow_account_id = db.Column(db.Integer, db.ForeignKey("escrow_account.id"), nullable=False, index=True)
    year = db.Column(db.Integer, nullable=False)
    quarter = db.Column(db.Integer, nullable=False)
    balance = db.Column(Money, nullable=False)
    floor = db.Column(Money, nullable=False)
    payable = db.Column(Money, nullable=False)
    # pending | approved | rejected | paid | failed
    status = db.Column(db.String(20), nullable=False, default="pending")
    comment = db.Column(db.Text, nullable=False, default="")
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"))
    requested_by_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    decided_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    requested_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    decided_at = db.Column(UTCDateTime())
    # Open requests block a second one for the same quarter; a rejected one frees it.
    active_key = db.Column(db.String(40), unique=True)

    escrow_account = db.relationship("EscrowAccount")
    requested_by = db.relationship("User", foreign_keys=[requested_by_id])


class CenterHead(db.Model):
    """The head (负责人) of the housing security service center, registered by an
    administrator: overdue disbursement approvals escalate to this user alone."""

    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    registered_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    user = db.relationship("User")
