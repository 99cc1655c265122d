"""Every route × every role (and anonymous), generated from the app's URL map.

A route without a declared policy (`roles_required`, `login_required` or `public` from
app.permissions, or the API blueprint's token gate) fails here, so nobody can add a page
and forget who may open it."""
import pytest
from werkzeug.routing import IntegerConverter

from app.roles import ROLES

# Placeholder values for URL arguments; the records may not exist (404 is an allowed answer).
ARGS = {"int": 1, "default": "x", "path": "x", "any": None}


def endpoints(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule, app.view_functions[rule.endpoint]


def build(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        if kind == "any":
            values[name] = converter.regex.split("|")[0].strip("(?:)")
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        else:
            values[name] = "x"
    return rule.build(values, append_unknown=False)[1]


def method_of(rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]


def is_api(rule) -> bool:
    return rule.endpoint.startswith("api.")


def test_every_route_declares_a_policy(app):
    undeclared = [rule.rule for rule, view in endpoints(app)
                  if not is_api(rule) and not getattr(view, "public", False) and not hasattr(view, "required_roles")]
    assert undeclared == [], f"routes without a declared policy: {undeclared}"


def test_anonymous_is_sent_to_login_or_refused(app, client):
    from app.api import PUBLIC_ENDPOINTS
    for rule, view in endpoints(app):
        url, method = build(rule), method_of(rule)
        response = client.open(url, method=method)
        if is_api(rule):
            if rule.endpoint not in PUBLIC_ENDPOINTS:
                assert response.status_code == 401, (rule.rule, response.status_code)
        elif not getattr(view, "public", False):
            assert response.status_code == 302 and "/login" in response.headers["Location"], (rule.rule, response.status_code)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_gets_exactly_the_pages_its_policy_allows(app, login_as, api_client, role):
    client = login_as(role)
    api, headers = api_client(role)
    for rule, view in endpoints(app):
        url, method = build(rule), method_of(rule)
        if is_api(rule):
            response = api.open(url, method=method, headers=headers, json={})
            assert response.status_code != 401 or rule.endpoint.startswith("api.integration_"), (role, rule.rule)
            continue
        if getattr(view, "public", False) or rule.endpoint == "auth.logout":
            continue
        response = client.open(url, method=method)
        required = view.required_roles
        if required and role not in required:
            assert response.status_code == 403, (role, rule.rule, response.status_code)
        else:
            assert response.status_code not in (401, 403), (role, rule.rule, response.status_code)
            assert not (response.status_code == 302 and "/login" in response.headers.get("Location", "")), \
                (role, rule.rule)
