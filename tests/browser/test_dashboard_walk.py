"""Each role opens its home page in Chromium and sees its charts drawn (screenshots under
tests/artifacts/)."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.dashboards.scene import bank_url, processes, scene, setup  # noqa: F401 (fixtures)


@pytest.mark.parametrize("role, org, charts", [
    ("housing_center", None, 7),  # the two complaint charts have no data: hidden, the tables say so
    ("street_office", "street", 2),
    ("enterprise", "enterprise", 1),  # no open cases yet: that chart is hidden
    ("bank", "bank", 1),
])
def test_each_role_sees_its_dashboard_drawn(new_page, scene, factory, role, org, charts):
    orgs = {"street": scene["community"].street_office, "enterprise": scene["enterprise"], "bank": scene["bank"]}
    factory.user(role, username=f"dash_{role}", org=orgs.get(org))
    page = new_page()
    login(page, f"dash_{role}")
    expect(page.locator(".wuye-chart[data-drawn=true] canvas")).to_have_count(charts)
    screenshot(page, f"dashboard-{role}")
    if role == "housing_center":  # the SLA states keep their colours: overdue red … no deadline grey
        colours = page.evaluate("echarts.getInstanceByDom(document.querySelector("
                                "'[data-testid=chart-open-cases]')).getOption().color")
        assert colours == ["#dc3545", "#fd7e14", "#198754", "#adb5bd"]
