"""Security headers, and properties checked with hypothesis: money splits never lose a fen,
working days never land on a day off."""
from datetime import date
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from app.services.escrow import year_end_split
from app.workdays import default_calendar


def test_security_headers_on_pages_and_api(client):
    for url in ("/login", "/api/v1/openapi.json"):
        headers = client.get(url).headers
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_hsts_behind_tls(app, client):
    app.config["SESSION_COOKIE_SECURE"] = True
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


def test_login_starts_a_fresh_session(client, factory):
    factory.user("housing_center", username="zb")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/login", data={"username": "zb", "password": "Secret-pass-123"})
    with client.session_transaction() as session:
        assert "planted" not in session


money = st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2)
scores = st.decimals(min_value=0, max_value=120, places=2)


@given(money, scores)
@settings(max_examples=300)
def test_year_end_release_and_cut_always_sum_to_the_funds(supervised, score):
    release, cut = year_end_split(supervised, score)
    assert release + cut == supervised
    assert release >= 0 and cut >= 0
    assert cut.as_tuple().exponent >= -2 and release.as_tuple().exponent >= -2
    if score >= 100:
        assert cut == 0


@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 11, 30)), st.integers(min_value=1, max_value=30))
@settings(max_examples=300)
def test_working_days_land_on_working_days_and_count_back(start, n):
    calendar = default_calendar()
    result = calendar.add_working_days(start, n)
    assert calendar.is_workday(result.date) and result.date > start
    assert calendar.working_days_between(start, result.date) == n
