"""Organisations and people: creating them with validated identity numbers."""
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from app.extensions import db
from app.models import Community, Enterprise, Person
from app.services import audit
from app.services.errors import ValidationFailed
from app.validators import is_valid_id_number, is_valid_uscc

ENTERPRISE_FIELDS = ("name", "uscc", "contact_name", "contact_phone", "address", "is_public_benefit")


def _check_uscc(uscc: str, errors: dict, exclude_id=None) -> str:
    uscc = (uscc or "").strip().upper()
    if not is_valid_uscc(uscc):
        errors["uscc"] = _("统一社会信用代码格式或校验位不正确。")
    else:
        query = db.select(Enterprise.id).where(Enterprise.uscc == uscc)
        if exclude_id:
            query = query.where(Enterprise.id != exclude_id)
        if db.session.scalar(query):
            errors["uscc"] = _("该统一社会信用代码已登记。")
    return uscc


def get_or_create_person(name: str, id_number: str, phone: str = "", field="id_number") -> Person:
    id_number = (id_number or "").strip().upper()
    if not is_valid_id_number(id_number):
        raise ValidationFailed(_("身份证号码格式或校验位不正确。"), {field: _("身份证号码格式或校验位不正确。")})
    person = db.session.scalar(db.select(Person).where(Person.id_number == id_number))
    if person is None:
        person = Person(name=name.strip(), id_number=id_number, phone=phone.strip())
        db.session.add(person)
        db.session.flush()
    return person


def create_enterprise(data: dict, actor=None) -> Enterprise:
    """data: name, uscc, legal_rep_name, legal_rep_id_number, contact_name, contact_phone, address."""
    errors = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = _("请填写企业名称。")
    uscc = _check_uscc(data.get("uscc"), errors)
    rep_id = (data.get("legal_rep_id_number") or "").strip().upper()
    if rep_id and not is_valid_id_number(rep_id):
        errors["legal_rep_id_number"] = _("身份证号码格式或校验位不正确。")
    if errors:
        raise ValidationFailed(_("企业信息有误。"), errors)
    enterprise = Enterprise(
        name=name, uscc=uscc,
        contact_name=(data.get("contact_name") or "").strip(),
        contact_phone=(data.get("contact_phone") or "").strip(),
        address=(data.get("address") or "").strip(),
        is_public_benefit=bool(data.get("is_public_benefit")),
    )
    if rep_id:
        enterprise.legal_rep = get_or_create_person(data.get("legal_rep_name") or "", rep_id, field="legal_rep_id_number")
    db.session.add(enterprise)
    db.session.flush()
    audit.record("enterprise.create", enterprise, after=audit.snapshot(enterprise, ENTERPRISE_FIELDS), actor=actor)
    db.session.commit()
    return enterprise


def create_community(data: dict, actor=None) -> Community:
    errors = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = _("请填写小区名称。")
    if not data.get("street_office_id"):
        errors["street_office_id"] = _("请选择街道办事处。")
    try:
        fee = Decimal(str(data.get("annual_receivable_fee") or "0")).quantize(Decimal("0.01"))
        if fee < 0:
            raise InvalidOperation
    except InvalidOperation:
        errors["annual_receivable_fee"] = _("请输入不小于 0 的金额。")
        fee = Decimal("0")
    if errors:
        raise ValidationFailed(_("小区信息有误。"), errors)
    community = Community(
        name=name, address=(data.get("address") or "").strip(),
        street_office_id=data["street_office_id"], enterprise_id=data.get("enterprise_id"),
        households=int(data.get("households") or 0),
        floor_area=Decimal(str(data.get("floor_area") or "0")),
        annual_receivable_fee=fee,
    )
    db.session.add(community)
    db.session.flush()
    audit.record("community.create", community, after={"name": name, "annual_receivable_fee": fee}, actor=actor)
    db.session.commit()
    return community
