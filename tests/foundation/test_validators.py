"""Identity-number checksums and masking, and bad input at the enterprise form."""
import pytest
from hypothesis import given, strategies as st

from app.extensions import db
from app.models import AuditEvent, Enterprise
from app.services.demo import demo_id_number, demo_uscc
from app.validators import (id_check_char, is_valid_bank_account, is_valid_id_number, is_valid_uscc, luhn_check_digit,
                            mask, uscc_check_char)

VALID_USCC = "91350100M000100Y43"  # a published example
VALID_ID = "11010519491231002X"  # GB 11643 example


def test_known_valid_numbers():
    assert is_valid_uscc(VALID_USCC)
    assert is_valid_id_number(VALID_ID)
    assert is_valid_bank_account("6222021234567890" + luhn_check_digit("6222021234567890"))


@pytest.mark.parametrize("value", ["", "91350100M000100Y44", "91350100M000100Y4", "9135010OM000100Y43", None,
                                   "91350100m000100y43x"])
def test_malformed_uscc_is_refused(value):
    assert not is_valid_uscc(value)


@pytest.mark.parametrize("value", ["110105194912310021", "11010519491331002X", "1101051949123100", "abc", None])
def test_malformed_id_number_is_refused(value):
    assert not is_valid_id_number(value)


@given(st.integers(min_value=1, max_value=10**6))
def test_generated_numbers_pass_and_a_changed_check_char_fails(n):
    uscc, idn = demo_uscc(n % 999), demo_id_number(n)
    assert is_valid_uscc(uscc) and is_valid_id_number(idn)
    assert not is_valid_uscc(uscc[:17] + ("0" if uscc[17] != "0" else "1"))
    assert not is_valid_id_number(idn[:17] + ("0" if idn[17] != "0" else "1"))
    assert uscc_check_char(uscc[:17]) == uscc[17] and id_check_char(idn[:17]) == idn[17]


def test_bank_account_rules():
    assert luhn_check_digit("7992739871") == "3"  # the textbook Luhn example 79927398713
    assert is_valid_bank_account("4111111111111111")  # a published 16-digit test card number
    assert not is_valid_bank_account("4111111111111112")
    body = "622202123456789012"  # a 19-digit card-style account: the last digit is its Luhn digit
    right = luhn_check_digit(body)
    assert right == "8" and is_valid_bank_account(body + right)
    for wrong in set("0123456789") - {right}:
        assert not is_valid_bank_account(body + wrong), wrong
    assert is_valid_bank_account("430101200012")  # 12 and 20–25 digits: corporate accounts, no check digit
    assert is_valid_bank_account("4301012000123456789012345")
    assert not is_valid_bank_account("43010120001")  # 11 digits
    assert not is_valid_bank_account("43010120001234567890123456")  # 26 digits
    assert not is_valid_bank_account("12345")
    assert not is_valid_bank_account("12345678901234x")
    assert not is_valid_bank_account(None) and not is_valid_bank_account("")


def test_masking():
    assert mask(VALID_ID) == "110***********002X"
    assert mask("13874301234", 3, 4) == "138****1234"


def test_enterprise_form_rejects_bad_numbers_at_the_field_and_changes_nothing(login_as, factory):
    client = login_as("housing_center")
    before = db.session.scalar(db.select(db.func.count(AuditEvent.id)))
    response = client.post("/enterprises/new", data={"name": "坏数据物业", "uscc": "91350100M000100Y44",
                                                     "legal_rep_id_number": "110105194912310021"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "统一社会信用代码格式或校验位不正确" in body and "身份证号码格式或校验位不正确" in body
    assert db.session.scalar(db.select(db.func.count(Enterprise.id))) == 0
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == before


def test_duplicate_uscc_is_refused(login_as, factory):
    factory.enterprise(uscc=VALID_USCC)
    client = login_as("housing_center")
    response = client.post("/enterprises/new", data={"name": "重复物业", "uscc": VALID_USCC})
    assert "该统一社会信用代码已登记" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Enterprise.id))) == 1


def test_enterprise_is_registered_with_masked_id_number(login_as):
    client = login_as("housing_center")
    response = client.post("/enterprises/new", data={"name": "吉首好物业", "uscc": VALID_USCC, "legal_rep_name": "张三",
                                                     "legal_rep_id_number": VALID_ID}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "企业已登记" in body and "110***********002X" in body and VALID_ID not in body
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "enterprise.create"))
    assert event.actor_name == client.user.username and event.after["uscc"] == VALID_USCC
