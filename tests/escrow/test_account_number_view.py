"""An escrow account number is masked on its page; its bank (and its enterprise and the
center) may reveal it, each reveal audited; another bank may not."""
from app.extensions import db
from app.models import AuditEvent


def test_an_account_number_is_revealed_to_its_bank_not_to_another(login_as, factory, setup):
    account = setup["account"]
    own_bank = login_as("bank", org=setup["bank"])
    page = own_bank.get(f"/escrow/accounts/{account.id}").get_data(as_text=True)
    assert account.account_no not in page and 'data-testid="reveal-account_no"' in page
    shown = own_bank.post(f"/reveal/escrow_account/{account.id}/account_no")
    assert account.account_no in shown.get_data(as_text=True)
    other_bank = login_as("bank", org=factory.bank())
    assert other_bank.post(f"/reveal/escrow_account/{account.id}/account_no").status_code == 403
    audited = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "personal_data.revealed")).all()
    assert [(e.actor_id, e.target_type, e.after["field"]) for e in audited] == [
        (own_bank.user.id, "EscrowAccount", "account_no")]
