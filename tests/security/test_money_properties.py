"""Money typed by a user: exactly the positive amounts to the fen are accepted, and they
come back unchanged; anything else (text, NaN, infinity, exponents, a third decimal,
zero or less) is a clear refusal at the field, never a crash or a rounded surprise."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.errors import ValidationFailed
from app.services.escrow import parse_amount, to_fen

fen_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999999999999.99"), places=2)


@given(fen_amounts)
@settings(max_examples=300)
def test_every_positive_amount_to_the_fen_is_accepted_unchanged(amount):
    assert parse_amount(str(amount)) == amount
    assert parse_amount(f" {amount} ") == amount


@given(st.one_of(st.text(max_size=30), st.decimals(allow_nan=True, allow_infinity=True).map(str),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr)))
@settings(max_examples=500)
def test_anything_else_is_refused_at_the_field(text):
    try:
        amount = parse_amount(text, "amount")
    except ValidationFailed as e:
        assert set(e.fields) == {"amount"}
    else:
        assert amount > 0 and amount == amount.quantize(Decimal("0.01")) and amount.is_finite()


@pytest.mark.parametrize("text", ["0", "-1.00", "1.005", "NaN", "Infinity", "1e999999", "一百", ""])
def test_known_bad_amounts(text):
    with pytest.raises(ValidationFailed):
        parse_amount(text)


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False))
def test_rounding_to_the_fen_is_half_up_and_never_moves_more_than_half_a_fen(value):
    rounded = to_fen(value)
    assert abs(rounded - value) <= Decimal("0.005")
    assert rounded == rounded.quantize(Decimal("0.01"))
