"""The housing center browses the audit log by actor, action, target and date (days in
Asia/Shanghai); every other role is refused, the export too."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.roles import ROLES
from app.services import audit
from tests.foundation.test_exports import sheet
from tests.html_tables import table_rows

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def events(factory):
    zhang, li = factory.user("housing_center", username="zhang_audit"), factory.user("enterprise", username="li_audit")
    for actor, action, target_type, target_id, at in [
        (zhang, "filing.approve", "Filing", "7", datetime(2026, 3, 1, 10, 0, tzinfo=SHANGHAI)),
        (li, "filing.return", "Filing", "8", datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI)),
        # 00:10 in Jishou on 2 March is still 1 March in UTC: the day filter must go by Jishou's day
        (zhang, "contract.file", "Contract", "7", datetime(2026, 3, 2, 0, 10, tzinfo=SHANGHAI)),
    ]:
        audit.record(action, actor=actor, target_type=target_type, target_id=target_id,
                     after={"note": action}).at = at
    db.session.commit()


def shown(client, **filters) -> set[tuple[str, str, str]]:
    response = client.get("/admin/audit", query_string=filters)
    assert response.status_code == 200
    rows = table_rows(response.get_data(as_text=True), "audit-table")[1:]  # without the header
    return {(row[1], row[2], row[3]) for row in rows if len(row) == 6}


APPROVE = ("zhang_audit", "filing.approve", "Filing 7")
RETURN = ("li_audit", "filing.return", "Filing 8")
FILE = ("zhang_audit", "contract.file", "Contract 7")


def test_the_filters(login_as, events):
    center = login_as("housing_center")
    form = center.get("/admin/audit").get_data(as_text=True)
    for field in ("actor", "action", "target_type", "target_id", "since", "until"):
        assert f'name="{field}"' in form, field  # each filter has its field on the page
    assert {APPROVE, RETURN, FILE} <= shown(center)
    assert shown(center, actor="zhang_audit") == {APPROVE, FILE}
    assert shown(center, action="filing.") == {APPROVE, RETURN}  # an action prefix
    assert shown(center, action="filing.return") == {RETURN}
    assert shown(center, target_type="Filing") == {APPROVE, RETURN}
    assert shown(center, target_type="Filing", target_id="7") == {APPROVE}
    assert shown(center, target_id="7") == {APPROVE, FILE}
    assert shown(center, since="2026-03-01", until="2026-03-01") == {APPROVE, RETURN}
    assert shown(center, since="2026-03-02", until="2026-03-02") == {FILE}
    assert shown(center, until="2026-02-28") == set()
    assert shown(center, actor="zhang_audit", action="contract", since="2026-03-01", until="2026-03-31") == {FILE}
    assert shown(center, actor="nobody") == set()
    assert shown(center, since="not-a-date", actor="li_audit") == {RETURN}  # a malformed date is ignored


def test_the_export_follows_the_filters(login_as, events):
    rows = sheet(login_as("housing_center").get("/admin/audit", query_string={
        "format": "xlsx", "actor": "zhang_audit", "since": "2026-03-02", "until": "2026-03-02"}))
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == [("zhang_audit", "contract.file", "Contract 7")]


@pytest.mark.parametrize("role", sorted(set(ROLES) - {"housing_center", "admin"}))
def test_other_roles_are_refused(login_as, events, role):
    client = login_as(role)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit", query_string={"format": "xlsx"}).status_code == 403
    assert client.get("/admin/audit", query_string={"actor": "zhang_audit"}).status_code == 403


def test_anonymous_is_sent_to_log_in(client, events):
    response = client.get("/admin/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
