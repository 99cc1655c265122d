"""CSRF everywhere, with the protection on as in production: every POST of every page in
the URL map, without a token or with a forged one, is refused with 400 and writes nothing —
for a logged-in user and for anyone. The exceptions are declared: the API (a bearer token,
never a cookie) and the public objection form (its page is cached for everyone, so it
carries no token; rate-limited instead, tests/evaluation/test_public_csrf.py)."""
import re

import pytest

from tests.security.matrix import probe

EXEMPT = {"evaluation.public_objection"}


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def logged_in(app, factory, role="housing_center"):
    user = factory.user(role)
    client = app.test_client()
    token = token_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": user.username, "password": "Secret-pass-123",
                                           "csrf_token": token})
    assert response.status_code == 302
    return client


def page_posts(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.endpoint.startswith("api.") and rule.endpoint not in EXEMPT:
            values = {arg: ("x" if arg in ("key", "code", "kind", "field", "token", "package", "filename") else
                            "retry" if arg == "action" else 1) for arg in rule.arguments}
            yield rule, rule.build(values, append_unknown=False)[1]


def test_a_login_without_a_token_is_refused(app, client, factory):
    user = factory.user("housing_center")
    refused = client.post("/login", data={"username": user.username, "password": "Secret-pass-123"})
    assert refused.status_code == 400 and "安全令牌" in refused.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_every_page_post_without_a_valid_token_is_refused_and_writes_nothing(app, factory):
    user_client = logged_in(app, factory)
    anonymous = app.test_client()
    posts = list(page_posts(app))
    assert len(posts) >= 80
    wrong = []
    for rule, url in posts:
        for who, client, form in (("user", user_client, {}), ("user, forged token", user_client,
                                                              {"csrf_token": "forged.token.value"}),
                                  ("anyone", anonymous, {})):
            outcome = probe(client, "POST", url, form=form)
            if outcome.status != 400 or outcome.writes:
                wrong.append((rule.endpoint, who, outcome.status, outcome.writes))
    assert wrong == []


def test_the_same_post_with_its_token_goes_through(app, factory):
    """So the refusals above are the token's doing: with the page's token, a POST works."""
    client = logged_in(app, factory)
    token = token_of(client.get("/notifications").get_data(as_text=True))
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 302
    assert client.post("/notifications/read", headers={"X-CSRFToken": token}).status_code == 302  # as htmx sends it
    assert client.post("/notifications/read", headers={"X-CSRFToken": token + "x"}).status_code == 400
