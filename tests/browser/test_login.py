"""A user logs in, sees the navigation of their role, and logs out."""
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD


def login(page, username, password=PASSWORD):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_housing_center_logs_in_sees_its_navigation_and_logs_out(new_page, factory):
    factory.user("housing_center", username="zhubao")
    page = new_page()
    login(page, "zhubao")
    nav = page.get_by_test_id("main-nav")
    assert nav.get_by_text("审计日志").is_visible()
    assert nav.get_by_text("物业企业").is_visible()
    screenshot(page, "home-housing-center")
    page.get_by_test_id("user-menu").locator(".dropdown-toggle").click()  # name, roles and logout live in the user menu
    assert "住保中心" in page.get_by_test_id("current-user").inner_text()
    page.get_by_test_id("logout").click()
    assert page.url.endswith("/login")
    assert page.get_by_text("您已安全退出").is_visible()


def test_enterprise_navigation_is_narrower_and_wrong_password_is_explained(new_page, factory):
    factory.user("enterprise", username="qiye")
    page = new_page()
    login(page, "qiye", "wrong-password-9")
    assert page.get_by_text("用户名或密码不正确").is_visible()
    login(page, "qiye")
    nav = page.get_by_test_id("main-nav")
    assert nav.get_by_text("物业企业").is_visible()
    assert nav.get_by_text("审计日志").count() == 0


def test_the_language_chosen_in_the_top_bar_follows_the_user_to_another_device(new_page, factory):
    factory.user("housing_center", username="yingwen")
    page = new_page()
    login(page, "yingwen")
    page.get_by_role("button", name="English").click()
    assert page.get_by_test_id("main-nav").get_by_text("Audit log").is_visible()

    elsewhere = new_page()  # another browser: the choice is the account's, not this session's
    login(elsewhere, "yingwen")
    assert elsewhere.locator("html").get_attribute("lang") == "en"
    assert elsewhere.get_by_test_id("main-nav").get_by_text("Audit log").is_visible()
    elsewhere.get_by_role("button", name="简体中文").click()
    assert elsewhere.get_by_test_id("main-nav").get_by_text("审计日志").is_visible()
    page.reload()  # the first browser keeps what it chose in its own session
    assert page.get_by_test_id("main-nav").get_by_text("Audit log").is_visible()
