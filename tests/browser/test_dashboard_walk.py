"""Each role opens its home page in Chromium and sees every chart drawn (screenshots under
tests/artifacts/dashboard-<role>.png)."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.dashboards.scene import bank_url, processes, scene, setup  # noqa: F401 (fixtures)

CHARTS = {
    "housing_center": ["filing", "supervision", "risk", "open-cases", "overdue-by-role", "escrow-by-quarter", "grades",
                       "disbursed", "collection", "complaints-by-category", "complaints-by-month"],
    "street_office": ["open-cases", "disputes-by-status", "collection", "takeovers-by-status"],
    "enterprise": ["open-cases", "disbursed", "scores"],
    "bank": ["instructions-by-status"],
}


@pytest.mark.parametrize("role, org", [("housing_center", None), ("street_office", "street"),
                                       ("enterprise", "enterprise"), ("bank", "other_bank")])
def test_each_role_sees_its_dashboard_drawn(new_page, scene, factory, role, org):
    orgs = {"street": scene["community"].street_office, "enterprise": scene["enterprise"],
            "other_bank": scene["other_bank"]}  # the bank with an instruction pending
    factory.user(role, username=f"dash_{role}", org=orgs.get(org))
    page = new_page()
    login(page, f"dash_{role}")
    for testid in CHARTS[role]:  # each chart's canvas was drawn by ECharts
        chart = page.locator(f"[data-testid=chart-{testid}]")
        expect(chart).to_have_attribute("data-drawn", "true")
        expect(chart.locator("canvas")).to_have_count(1)
        assert chart.locator("canvas").bounding_box()["height"] > 100, testid
    expect(page.locator(".wuye-chart")).to_have_count(len(CHARTS[role]))  # and there are no others, hidden
    screenshot(page, f"dashboard-{role}")
    if role == "housing_center":  # the SLA states keep their colours: overdue red … no deadline grey
        colours = page.evaluate("echarts.getInstanceByDom(document.querySelector("
                                "'[data-testid=chart-open-cases]')).getOption().color")
        assert colours == ["#dc3545", "#fd7e14", "#198754", "#adb5bd"]
