"""Every route and API operation × every method × every role and anonymous, against the
policy declared in tests/security/policy.py — not against the views' own role lists, so
widening or narrowing who may open a page fails here until the policy says so.

The table must cover the URL map exactly: a new route or method without an entry fails
`test_the_policy_covers_every_route_and_method`. Each request goes to a real record of the
world (tests/security/world.py) that the role's organisation owns, so "allowed" means the
page or answer, not a 404 for a record that does not exist; a refused request (401, 403,
404, or a redirect to log in) must not have written anything to the database."""
import pytest

from app import create_app
from app.extensions import db
from app.models import User
from app.roles import ROLES
from app.services import users
from tests.conftest import IsolatedClient, _empty_all_tables, make_test_config
from tests.security import world as W
from tests.security.matrix import methods_of, probe
from tests.security.policy import ANYONE, IN_PAGE_REFUSALS, POLICY, SIGNED

PRINCIPALS = ["anonymous", *sorted(ROLES)]


@pytest.fixture(scope="module")
def matrix(database_url, _schema, tmp_path_factory):
    """One world for all principals (built once: the demo data takes a while). They run in
    PRINCIPALS order; what an allowed empty POST changes is seen by the next ones."""
    from sandbox.bank import create_app as create_bank
    from sandbox.server import serve_in_thread
    app = create_app(make_test_config(database_url, tmp_path_factory.mktemp("matrix")))
    app.test_client_class = IsolatedClient
    with app.app_context():
        _empty_all_tables()
        bank_url, shutdown = serve_in_thread(create_bank(key_id=app.config["BANK_KEY_ID"],
                                                         secret=app.config["BANK_SECRET"]))
        app.config["BANK_GATEWAY_URL"] = bank_url
        try:
            yield app, W.build(bank_url)
        finally:
            shutdown()
            db.session.remove()
            db.engine.dispose()


def routes(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def test_the_policy_covers_every_route_and_method(matrix):
    app, _world = matrix
    in_app = {(rule.endpoint, method) for rule in routes(app) for method in methods_of(rule)}
    assert sorted(in_app - set(POLICY)) == [], "routes or methods without a declared policy"
    assert sorted(set(POLICY) - in_app) == [], "policy entries for routes that no longer exist"
    assert set(IN_PAGE_REFUSALS) <= set(POLICY)


def test_every_view_declares_its_guard(matrix):
    """Besides the table: each page names roles_required, login_required or public (the API
    has its token gate), so a page never relies on nobody linking to it."""
    app, _world = matrix
    undeclared = [rule.rule for rule in routes(app) if not rule.endpoint.startswith("api.")
                  and not getattr(app.view_functions[rule.endpoint], "public", False)
                  and not hasattr(app.view_functions[rule.endpoint], "required_roles")]
    assert undeclared == []


def expected_allowed(endpoint: str, method: str, principal: str) -> bool:
    rule = POLICY[(endpoint, method)]
    if rule == ANYONE:
        return True
    if rule == SIGNED or principal == "anonymous":
        return False
    return principal in rule


def requests_in_order(app):
    """GETs first, then the POSTs; logging out last."""
    pairs = [(rule, method) for rule in routes(app) for method in methods_of(rule)]
    return sorted(pairs, key=lambda p: (p[0].endpoint == "auth.logout", p[1] != "GET", p[0].endpoint, p[0].rule))


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_each_principal_gets_exactly_what_the_policy_allows_and_a_refusal_changes_nothing(matrix, principal):
    app, world = matrix
    anonymous = principal == "anonymous"
    client = app.test_client() if anonymous else W.login(app, principal)
    token = None if anonymous else users.issue_token(W.user(principal), "matrix")
    api_headers = {"Authorization": f"Bearer {token}"} if token else {}
    wrong = []
    for rule, method in requests_in_order(app):
        url = rule.build(W.values_for(rule, world), append_unknown=False)[1]
        outcome = probe(client, method, url, api_headers=api_headers if rule.endpoint.startswith("api.") else None)
        allowed = expected_allowed(rule.endpoint, method, principal)
        refused_in_page = principal in IN_PAGE_REFUSALS.get((rule.endpoint, method), ())
        if outcome.status >= 500:
            wrong.append((method, url, outcome.status, "server error"))
        elif refused_in_page:
            if outcome.denied or outcome.writes:
                wrong.append((method, url, outcome.status, f"expected a message on the page, writes {outcome.writes}"))
        elif allowed and outcome.denied:
            wrong.append((method, url, outcome.status, "refused, the policy allows it"))
        elif not allowed and not outcome.denied:
            wrong.append((method, url, outcome.status, "let through, the policy refuses it"))
        elif not allowed and outcome.writes:
            wrong.append((method, url, outcome.status, f"refused but wrote {outcome.writes}"))
    assert wrong == [], f"{principal}: " + "\n".join(map(str, wrong))


@pytest.mark.parametrize("principal", ["enterprise", "bank", "street_office"])
def test_a_refusal_is_a_refusal_whatever_the_body(matrix, principal):
    """The same refused POSTs with a full form instead of an empty one: still refused, and
    still nothing written (a refusal must not depend on the form being invalid)."""
    app, world = matrix
    client = W.login(app, principal)
    for rule, method in requests_in_order(app):
        if method != "POST" or rule.endpoint.startswith("api.") or expected_allowed(rule.endpoint, method, principal):
            continue
        if principal in IN_PAGE_REFUSALS.get((rule.endpoint, method), ()):
            continue
        url = rule.build(W.values_for(rule, world), append_unknown=False)[1]
        outcome = probe(client, method, url, form=W.FULL_FORM)
        assert outcome.denied and not outcome.writes, (principal, url, outcome)


# Records no organisation owns: the model contract texts, the year's scoring standard, a language.
SHARED = {"contracts.template_show", "contracts.template_pdf", "evaluation.standard", "evaluation.export_standard",
          "auth.set_language"}
# URL arguments that name no record of an organisation.
NOT_RECORDS = {"key", "code", "package", "filename", "action"}
# Where a role's own record of the world is another one than the shared choice above.
ROLE_ARGS = {"mediator": {"instance_id": "dispute_instance_id"}}
# Forms naming a record of an organisation: another organisation's user names the world's.
BODY_IDS = {("contracts.new", "enterprise"), ("inspections.new", "street_office"), ("surveys.new", "street_office"),
            ("takeover.new", "street_office"), ("disputes.new", "street_office"),
            ("devices.new_plan", "device_supplier")}


@pytest.mark.parametrize("role", ["enterprise", "bank", "device_supplier", "street_office", "mediator",
                                  "owners_committee", "owner"])
def test_the_same_role_of_another_organisation_is_refused_every_record_and_changes_nothing(matrix, role):
    """Each URL that names a record of the world, which the role's user of its organisation
    may open (checked first), opened by a user of the same role in another organisation:
    404 or 403, and nothing written. Page and API alike; and the forms that take a
    community from their body, given the world's community by the other organisation."""
    app, world = matrix
    values = {**world, **{arg: world[source] for arg, source in ROLE_ARGS.get(role, {}).items()}}
    own, other = W.login(app, role), W.login(app, username=world["others"][role])
    own_api = {"Authorization": f"Bearer {users.issue_token(W.user(role), 'swap')}"}
    other_user = db.session.scalar(db.select(User).where(User.username == world["others"][role]))
    other_api = {"Authorization": f"Bearer {users.issue_token(other_user, 'swap')}"}
    checked, wrong = 0, []
    for rule, method in requests_in_order(app):
        if not (rule.arguments - NOT_RECORDS) or rule.endpoint in SHARED or rule.endpoint == "auth.logout" \
                or POLICY[(rule.endpoint, method)] in (ANYONE, SIGNED):
            continue
        url = rule.build(W.values_for(rule, values), append_unknown=False)[1]
        api = rule.endpoint.startswith("api.")
        if method == "GET" and probe(own, method, url, api_headers=own_api if api else None).denied:
            continue  # not the role's own record either (its policy entry says so): nothing to swap
        if method != "GET" and not expected_allowed(rule.endpoint, method, role):
            continue
        outcome = probe(other, method, url, api_headers=other_api if api else None, form=W.FULL_FORM)
        checked += 1
        if not outcome.denied or outcome.writes:
            wrong.append((method, url, outcome.status, outcome.writes))
    for endpoint, form_role in BODY_IDS:
        if form_role != role:
            continue
        rule = next(r for r in routes(app) if r.endpoint == endpoint)
        form = {**W.FULL_FORM, "community_id": str(world["community_id"])}
        outcome = probe(other, "POST", rule.build({}, append_unknown=False)[1], form=form)
        checked += 1
        if outcome.writes:
            wrong.append(("POST", endpoint, outcome.status, outcome.writes))
    assert checked >= 2, (role, checked)
    assert wrong == [], f"{role} of another organisation: " + "\n".join(map(str, wrong))
