"""With CSRF protection on, as in production: htmx POSTs carry the page's token and go
through — the inbox's claim button (inside the bulk-claim form) and an htmx request from
outside any form, which has only the token every page puts in its hx-headers. The same POST
without the token is refused with 400 and the task stays unclaimed."""
from urllib.parse import urlparse

import pytest

from app.engine import runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import HumanTask
from tests.browser.test_login import login
from tests.engine.conftest import BPMN_DIR


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_an_htmx_claim_carries_the_token_and_a_post_without_it_is_refused(new_page, factory):
    deploy("demo_review", (BPMN_DIR / "demo_review.bpmn").read_text(encoding="utf-8"))
    enterprise = factory.enterprise(name="乾元物业")
    factory.user("enterprise", org=enterprise, username="qianyuan")
    for n in (1, 2):
        runtime.start("demo_review", business_key=f"csrf-{n}", title=f"乾元物业 · 年度材料 {n}",
                      data={"review_days": 5, "account_no": "0"}, orgs={"enterprise_id": enterprise.id})
    db.session.commit()
    first, second = db.session.scalars(db.select(HumanTask).order_by(HumanTask.id)).all()

    page = new_page()
    login(page, "qianyuan")
    page.goto("/inbox")
    status = page.evaluate("""async (url) => (await fetch(url, {method: 'POST', headers: {'HX-Request': 'true'}}))
                              .status""", f"/tasks/{second.id}/claim")
    assert status == 400  # the same POST without the token

    row = page.get_by_test_id("task-row").filter(has_text="年度材料 1")
    with page.expect_response(lambda r: urlparse(r.url).path == f"/tasks/{first.id}/claim") as answer:
        row.get_by_test_id("claim").click()
    assert answer.value.status == 200
    page.get_by_test_id("task-row").filter(has_text="年度材料 1").get_by_text("已签收").wait_for()
    db.session.expire_all()
    assert db.session.get(HumanTask, first.id).claimed_by_id is not None
    assert db.session.get(HumanTask, second.id).claimed_by_id is None

    with page.expect_request(lambda r: urlparse(r.url).path == f"/tasks/{second.id}/claim") as sent, \
            page.expect_response(lambda r: urlparse(r.url).path == f"/tasks/{second.id}/claim") as answer:
        page.evaluate("(url) => htmx.ajax('POST', url, {source: document.body, swap: 'none'})",
                      f"/tasks/{second.id}/claim")
    assert sent.value.headers.get("x-csrftoken") and answer.value.status == 200
    db.session.expire_all()
    assert db.session.get(HumanTask, second.id).claimed_by_id is not None
