"""Personal data in full. ID-card, phone and bank-account numbers are shown masked
everywhere; a user whose work needs the full value (the housing center and administrators;
for an escrow account also its bank and its enterprise) reveals one value at a time, and
every reveal is written to the audit log with who, what and when."""
from flask_babel import gettext as _

from app.extensions import db
from app.models import Enterprise, EscrowAccount, Person
from app.services import audit
from app.services.errors import Forbidden, NotFound


def _center(user, obj) -> bool:
    return user.has_role("housing_center", "admin")


def _account_parties(user, account) -> bool:
    from app.services.escrow import may_see_full_account_no
    return may_see_full_account_no(user, account)


# (kind in the URL, field) → (model, attribute, who may see it in full)
REVEALABLE = {
    ("person", "id_number"): (Person, "id_number", _center),
    ("person", "phone"): (Person, "phone", _center),
    ("enterprise", "contact_phone"): (Enterprise, "contact_phone", _center),
    ("escrow_account", "account_no"): (EscrowAccount, "account_no", _account_parties),
}


def may_reveal(user, kind: str, obj, field: str) -> bool:
    entry = REVEALABLE.get((kind, field))
    return bool(entry and obj is not None and entry[2](user, obj))


def reveal(user, kind: str, object_id: int, field: str) -> str:
    if (kind, field) not in REVEALABLE:
        raise NotFound(_("没有这项个人信息。"))
    model, attribute, _allowed = REVEALABLE[(kind, field)]
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(_("没有这项个人信息。"))
    if not may_reveal(user, kind, obj, field):
        raise Forbidden(_("您的角色不能查看完整的个人信息。"))
    audit.record("personal_data.revealed", obj, after={"field": field}, actor=user)
    db.session.commit()
    return getattr(obj, attribute)
