"""Every list page shows a page at a time: with more records than a page holds, the page
shows its page size and the next page the rest. Which pages are lists is declared here and
checked against the URL map: a new page without arguments must be declared a paged list, a
list with a fixed cap, or not a list."""
import re
from datetime import date
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import AuditEvent, EscrowAccount, EscrowAgreement, Evaluation, SatisfactionSurvey, ScoringStandard
from app.services import users

EXTRA = 3  # records beyond one page

# endpoint → (records per page, what to make, the role that opens it)
PAGED = {
    "orgs.enterprise_list": (30, "enterprises", "housing_center"),
    "credit.index": (30, "enterprises", "housing_center"),
    "orgs.community_list": (30, "communities", "housing_center"),
    "fees.index": (30, "communities", "housing_center"),
    "admin.user_list": (50, "users", "admin"),
    "admin.audit_log": (50, "audit", "admin"),
    "escrow.index": (50, "accounts", "housing_center"),
    "surveys.index": (30, "surveys", "housing_center"),
    "evaluation.index": (50, "evaluations", "housing_center"),
}
# Paged lists tested with their own records in their domains' tests.
PAGED_ELSEWHERE = {"cases.index": 25, "inbox.index": 25, "contracts.index": 30, "filing.index": 30,
                   "filing.high_risk_index": 30, "escrow.instructions": 50}
# Lists cut at a fixed number, newest or most urgent first.
CAPPED = {"inspections.index": 200, "disputes.index": 500, "devices.index": 500, "devices.plans": 500,
          "devices.records": 500, "devices.repairs": 500, "takeover.index": 1000, "notifications.index": 100}
# Rankings computed in full and shown a page at a time (app/web/paging.py), tested below.
RANKINGS = {"takeover.recommendations", "evaluation.public_ranking", "filing.public_high_risk"}
# Forms, dashboards, and lists bounded by nature (a year's calendar, a street's heads, the models).
NOT_LISTS = {"main.index", "main.healthz", "auth.login", "auth.change_password", "auth.substitutes",
             "filing.signup", "filing.demand_new", "filing.unfiled_new", "filing.register_import",
             "orgs.enterprise_new", "contracts.new", "contracts.guide", "contracts.template_list", "devices.new",
             "devices.new_plan", "disputes.new", "disputes.import_work_orders", "disputes.mediators", "disputes.stats",
             "escrow.open_account", "inspections.new", "surveys.new", "takeover.new", "takeover.heads", "escrow.heads",
             "modeler.index", "modeler.new", "reports.index", "admin.calendar_days", "api.openapi",
             "contracts.template_edit"}  # (/contracts/templates/new)


def test_every_page_without_arguments_is_declared(app):
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
             and (not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi")}
    declared = set(PAGED) | set(PAGED_ELSEWHERE) | set(CAPPED) | RANKINGS | NOT_LISTS
    assert sorted(pages - declared) == [] and sorted(declared - pages) == []


def make(kind: str, factory, n: int) -> None:
    """n records named 分页…NNN."""
    if kind == "enterprises":
        for i in range(n):
            factory.enterprise(name=f"分页物业{i:03d}")
        return
    street, enterprise = factory.street_office("分页街道"), factory.enterprise(name="分页总公司")
    if kind == "users":
        for i in range(n):
            users.create_user(f"分页用户{i:03d}", "Secret-pass-123", ["housing_bureau"])
        return
    if kind == "audit":
        db.session.execute(db.insert(AuditEvent), [{"action": "test.page", "actor_name": f"分页用户{i:03d}",
                                                    "target_type": "T", "target_id": str(i)} for i in range(n)])
        db.session.commit()
        return
    communities = [factory.community(enterprise=enterprise, street_office=street, name=f"分页小区{i:03d}")
                   for i in range(n)]
    if kind == "accounts":
        bank = factory.bank()
        for i, c in enumerate(communities):
            agreement = EscrowAgreement(community_id=c.id, enterprise_id=enterprise.id, bank_id=bank.id,
                                        signed_on=date(2026, 1, 1), starts_on=date(2026, 1, 1))
            db.session.add(agreement)
            db.session.flush()
            db.session.add(EscrowAccount(agreement_id=agreement.id, community_id=c.id, enterprise_id=enterprise.id,
                                         bank_id=bank.id, account_no=f"62170{i:013d}", account_name=c.name,
                                         payee_account_no="6222021234567890128", payee_name=enterprise.name))
    elif kind == "surveys":
        db.session.execute(db.insert(SatisfactionSurvey), [
            {"community_id": c.id, "enterprise_id": enterprise.id, "year": 2026} for c in communities])
    elif kind == "evaluations":
        standard = ScoringStandard(year=2026, title="分页标准")
        db.session.add(standard)
        db.session.flush()
        db.session.execute(db.insert(Evaluation), [
            {"year": 2026, "standard_id": standard.id, "enterprise_id": enterprise.id, "community_id": c.id,
             "scoring_due": date(2026, 12, 28), "total": Decimal(90 - i % 10)} for i, c in enumerate(communities)])
    db.session.commit()


def shown(html: str) -> set[str]:
    return set(re.findall(r"分页(?:物业|小区|用户)\d{3}", html))


@pytest.mark.parametrize("endpoint", sorted(PAGED))
def test_a_list_page_shows_one_page_and_the_next_page_the_rest(app, login_as, factory, endpoint):
    per_page, kind, role = PAGED[endpoint]
    make(kind, factory, per_page + EXTRA)
    client = login_as(role)
    url = next(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    extra = "&year=2026" if endpoint in ("evaluation.index", "fees.index") else ""
    first = client.get(f"{url}?page=1{extra}")
    second = client.get(f"{url}?page=2{extra}")
    assert first.status_code == second.status_code == 200
    one, two = shown(first.get_data(as_text=True)), shown(second.get_data(as_text=True))
    # other rows (the user's own account, the records the set-up made) may share the pages
    assert len(one | two) == per_page + EXTRA and not one & two, (endpoint, len(one), len(two))
    assert per_page - 5 <= len(one) <= per_page and len(two) >= EXTRA, (endpoint, len(one), len(two))
    assert "page=2" in first.get_data(as_text=True)  # the way to the next page is shown
    huge = client.get(f"{url}?page=1&per_page=100000{extra}")
    assert len(shown(huge.get_data(as_text=True))) == len(one)  # the size is the page's, not the caller's


def test_rankings_are_shown_a_page_at_a_time_with_ranks_running_on(app, client, login_as, factory):
    """The public ranking (100 communities and 50 enterprises a page), the public high-risk
    list and the recommendations' two lists (50 a page) page like every other list."""
    from app.models import HighRiskListing
    from app.models.base import utcnow
    make("evaluations", factory, 100 + EXTRA)
    db.session.execute(db.update(Evaluation).values(status="disclosure"))
    listed = [factory.enterprise(name=f"分页物业{i:03d}") for i in range(50 + EXTRA)]
    db.session.execute(db.insert(HighRiskListing), [
        {"enterprise_id": e.id, "status": "listed", "reason": "拒不备案", "listed_at": utcnow(), "active_key": e.id}
        for e in listed])
    db.session.commit()

    first, second = (client.get(f"/public/evaluation/ranking?year=2026&page={n}").get_data(as_text=True)
                     for n in (1, 2))
    one, two = shown(first), shown(second)
    assert len(one) == 100 and len(two) == EXTRA and not one & two
    assert "<td>101</td>" in second and "<td>101</td>" not in first  # the rank runs on across pages
    assert "page=2" in first

    first, second = (client.get(f"/public/high-risk?page={n}").get_data(as_text=True) for n in (1, 2))
    assert len(shown(first)) == 50 and len(shown(second)) == EXTRA and not shown(first) & shown(second)

    center = login_as("housing_center")  # listed enterprises are not recommended: the excluded list pages
    first, second = (center.get(f"/takeovers/recommendations?excluded_page={n}").get_data(as_text=True)
                     for n in (1, 2))
    assert first.count('data-testid="excluded-row"') == 50  # the evaluated enterprise is not recommended either
    one, two = (shown(html.split('data-testid="excluded"')[1]) for html in (first, second))
    assert len(one | two) == 50 + EXTRA and not one & two and "excluded_page=2" in first
