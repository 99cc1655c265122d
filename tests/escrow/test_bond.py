"""Bond top-ups (agreement art. 4.2: the enterprise pays the bond itself): a payment from
the enterprise's own account whose memo says 保证金 is booked as a bond top-up in the
double-entry ledger, shown on the account page, and counts toward the 5 % floor; only the
balance above the floor is ever payable."""
import json
from decimal import Decimal

from app.extensions import db
from app.integrations.signing import sign_headers
from app.models import DisbursementRequest, LedgerTxn
from app.services import escrow
from tests.escrow.conftest import deposit

PATH = "/api/v1/integrations/bank/notifications"


def test_a_bond_top_up_reaches_the_floor_and_only_what_is_above_it_is_payable(setup, bank_url, login_as, app,
                                                                             client):
    account = setup["account"]
    deposit(bank_url, account.account_no, "40000.00")  # owners' fees: 10 000.00 short of the 50 000.00 floor
    escrow.pull_statement(account)
    enterprise = login_as("enterprise", org=setup["enterprise"])
    page = enterprise.get(f"/escrow/accounts/{account.id}").get_data(as_text=True)
    assert 'data-testid="payable">0.00<' in page and "差额 10,000.00 元" in page and "保证金" in page

    deposit(bank_url, account.account_no, "6000.00", payer="乾元物业", memo="2026年履约保证金")  # pulled
    escrow.pull_statement(db.session.get(type(account), account.id))
    body = json.dumps({"type": "transaction", "account_no": account.account_no, "serial": "SB0000005000",
                       "direction": "credit", "amount": "4000.00", "counterparty": "乾元物业",
                       "memo": "补缴保证金"}).encode()  # notified
    headers = sign_headers(app.config["BANK_SECRET"], "bank", "POST", PATH, body)
    assert client.post(PATH, data=body, headers={**headers, "Content-Type": "application/json"}).get_json() == {
        "status": "posted"}

    bonds = db.session.scalars(db.select(LedgerTxn).where(LedgerTxn.kind == "bond_topup").order_by(LedgerTxn.id)).all()
    assert [t.amount for t in bonds] == [Decimal("6000.00"), Decimal("4000.00")]
    for txn in bonds:
        assert sorted((e.book, e.amount) for e in txn.entries) == [("bank", txn.amount), ("bond", -txn.amount)]
    assert escrow.bond_paid(account.id) == Decimal("10000.00")
    assert escrow.balance(account.id) == Decimal("50000.00") == escrow.bond_floor(account)
    assert escrow.payable_now(account) == Decimal("0.00")  # exactly at the floor: still nothing is paid

    page = enterprise.get(f"/escrow/accounts/{account.id}").get_data(as_text=True)
    assert 'data-testid="bond">10,000.00<' in page and 'data-testid="bond-shortfall"' not in page
    assert page.count("补缴保证金") >= 2  # two ledger rows
    year, quarter = escrow.current_quarter()
    refused = enterprise.post(f"/escrow/accounts/{account.id}", data={"year": year, "quarter": min(quarter, 3)},
                              follow_redirects=True)
    assert "未超过履约保证金下限" in refused.get_data(as_text=True)

    deposit(bank_url, account.account_no, "8000.00")
    escrow.pull_statement(db.session.get(type(account), account.id))
    accepted = enterprise.post(f"/escrow/accounts/{account.id}", data={"year": year, "quarter": min(quarter, 3)},
                               follow_redirects=True)
    assert "应拨付 8000.00 元" in accepted.get_data(as_text=True)
    assert db.session.scalar(db.select(DisbursementRequest)).payable == Decimal("8000.00")


def test_the_enterprises_payment_without_the_bond_memo_is_offline_fees_and_an_owners_memo_is_not_a_bond(setup,
                                                                                                       bank_url):
    account = setup["account"]
    deposit(bank_url, account.account_no, "300.00", payer="乾元物业", memo="线下收取物业费")
    deposit(bank_url, account.account_no, "200.00", payer="业主王五", memo="保证金")  # an owner, not the enterprise
    escrow.pull_statement(account)
    kinds = [t.kind for t in db.session.scalars(db.select(LedgerTxn).order_by(LedgerTxn.id))]
    assert kinds == ["offline_deposit", "owner_payment"] and escrow.bond_paid(account.id) == Decimal("0.00")
