"""The USCC and resident-ID validators on random text: they never crash, and they accept
exactly what an independent reading of the standards accepts (GB 32100-2015, GB 11643-1999):
ASCII only, the right length and alphabet, a real date of birth, the right check character.
Near misses (one character changed, fullwidth or other Unicode digits, letters that
upper-case into ASCII) are refused."""
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.demo import demo_id_number, demo_uscc
from app.validators import is_valid_id_number, is_valid_uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z


def reference_uscc(text) -> bool:
    code = text.strip() if isinstance(text, str) else ""
    if len(code) != 18 or not code.isascii():
        return False
    code = code.upper()
    if any(c not in USCC_ALPHABET for c in code) or not code[2:8].isdigit():
        return False
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code, weights))
    return code[17] == USCC_ALPHABET[(31 - total % 31) % 31]


def reference_id(text) -> bool:
    number = text.strip() if isinstance(text, str) else ""
    if len(number) != 18 or not number.isascii():
        return False
    number = number.upper()
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not date(1800, 1, 1) <= born <= date.today():
        return False
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(number[:17]))
    return number[17] == "10X98765432"[total % 11]


TRICKY = ["０", "９", "٣", "߁", "𝟙", "ﬀ", "ı", "ſ", "ǰ", "\n", "\u3000", "\x00", "x", "a"]


def near(valid: str) -> st.SearchStrategy:
    """`valid` with one character replaced, inserted or removed (often by a Unicode digit or a
    letter that upper-cases into ASCII), or all its digits made fullwidth."""
    odd = st.one_of(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ "), st.sampled_from(TRICKY))
    at = st.integers(0, len(valid) - 1)
    return st.one_of(
        st.tuples(at, odd).map(lambda p: valid[:p[0]] + p[1] + valid[p[0] + 1:]),
        st.tuples(at, odd).map(lambda p: valid[:p[0]] + p[1] + valid[p[0]:]),
        at.map(lambda i: valid[:i] + valid[i + 1:]),
        st.just(valid.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})),
        st.just(valid.lower()), st.just(f" {valid} "), st.just(valid + "\n"))


def with_check(first17: str, check) -> str:
    return first17 + check(first17)


def id_check(first17: str) -> str:
    return "10X98765432"[sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17)) % 11]


# Dates of birth from the calendar's edges: 30 February, 31 April, 29 February of non-leap years, the future.
births = st.tuples(st.integers(1790, 2110), st.integers(0, 13), st.integers(0, 32)).map(
    lambda d: f"{d[0]:04d}{d[1]:02d}{d[2]:02d}")
structured_ids = st.tuples(st.from_regex(r"[0-9]{6}", fullmatch=True), births,
                           st.from_regex(r"[0-9]{3}", fullmatch=True)).map(lambda p: with_check("".join(p), id_check))

uscc_inputs = st.one_of(st.text(max_size=24), st.text(alphabet=USCC_ALPHABET + "ISOVZ", min_size=18, max_size=18),
                        st.integers(1, 998).map(demo_uscc).flatmap(near), st.integers(1, 998).map(demo_uscc))
id_inputs = st.one_of(st.text(max_size=24), st.text(alphabet="0123456789X", min_size=18, max_size=18),
                      st.integers(1, 10**6).map(demo_id_number).flatmap(near), structured_ids,
                      structured_ids.flatmap(near))


@settings(max_examples=1500, deadline=None)
@given(uscc_inputs)
def test_uscc_validator_accepts_exactly_the_valid_codes(text):
    assert is_valid_uscc(text) == reference_uscc(text), repr(text)


@settings(max_examples=1500, deadline=None)
@given(id_inputs)
def test_id_number_validator_accepts_exactly_the_valid_numbers(text):
    assert is_valid_id_number(text) == reference_id(text), repr(text)


def test_the_reference_agrees_on_published_examples():
    assert reference_uscc("91350100M000100Y43") and reference_id("11010519491231002X")
    assert not reference_id("110105194902300012")  # 30 February
