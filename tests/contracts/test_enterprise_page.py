"""The enterprise page lists the enterprise's contracts — community, kind, the filed round
or where the case stands, term and expiry, a link to the contract — each user only those
the contract pages would show it."""
import pytest

from app.extensions import db
from app.models import Contract
from tests.contracts.conftest import act, contract_form, open_task
from tests.contracts.test_guidance_and_deadlines import ALL_ITEMS
from tests.html_tables import table_rows

pytestmark = pytest.mark.usefixtures("clock")


def file(client, community, **changes):
    return client.post("/contracts/new", data=contract_form(community, **changes), content_type="multipart/form-data")


def contracts_on(client, enterprise) -> list[list[str]]:
    page = client.get(f"/enterprises/{enterprise.id}")
    assert page.status_code == 200
    return [r for r in table_rows(page.get_data(as_text=True), "enterprise-contracts")[1:] if r != ["没有记录。"]]


def test_the_enterprise_page_shows_its_current_contracts_scoped_like_the_contract_pages(world, factory, login_as):
    enterprise = login_as("enterprise", org=world["enterprise"])
    center = login_as("housing_center")
    across = factory.community(enterprise=world["enterprise"], street_office=world["other_street"], name="峒河花园")
    assert file(enterprise, world["community"], ends_on="2028-02-29").status_code == 302
    first = db.session.scalar(db.select(Contract))
    act(center, open_task(first.id, "review"), decision="accept", checklist=ALL_ITEMS)
    # Renewed: the new contract is filed and replaces the first, which leaves the page.
    assert file(enterprise, world["community"], signed_on="2026-03-01", starts_on="2026-03-01",
                ends_on="2026-05-31").status_code == 302
    renewal = db.session.scalar(db.select(Contract).order_by(Contract.id.desc()))
    act(center, open_task(renewal.id, "review"), decision="accept", checklist=ALL_ITEMS)
    assert file(enterprise, across, party_a="峒河花园业主委员会").status_code == 302
    pending = db.session.scalar(db.select(Contract).order_by(Contract.id.desc()))
    db.session.expire_all()
    assert db.session.get(Contract, first.id).status == "superseded"

    shiji = ["世纪华庭", "物业服务合同", "已备案 · 第 1 轮报送稿", "2026-03-01 — 2026-05-31", "2026-05-31 90 天内到期"]
    huayuan = ["峒河花园", "物业服务合同", "待审查 · 第 1 轮", "2026-03-01 — 2029-02-28", "2029-02-28"]
    assert sorted(contracts_on(center, world["enterprise"])) == sorted([huayuan, shiji])
    assert sorted(contracts_on(enterprise, world["enterprise"])) == sorted([huayuan, shiji])
    page = center.get(f"/enterprises/{world['enterprise'].id}").get_data(as_text=True)
    assert f'href="/contracts/{renewal.id}">世纪华庭' in page and f'href="/contracts/{pending.id}">峒河花园' in page
    assert f'href="/contracts/{first.id}"' not in page

    # A street office sees the contracts of its own street's communities only.
    assert contracts_on(login_as("street_office", org=world["street"]), world["enterprise"]) == [shiji]
    assert contracts_on(login_as("street_office", org=world["other_street"]), world["enterprise"]) == [huayuan]
    # A department reads the enterprise page but not the contract pages: no contracts there.
    fire = login_as("fire_brigade").get(f"/enterprises/{world['enterprise'].id}").get_data(as_text=True)
    assert world["enterprise"].name in fire and 'data-testid="enterprise-contracts"' not in fire
    assert login_as("enterprise", org=world["other_enterprise"]).get(
        f"/enterprises/{world['enterprise'].id}").status_code == 404
