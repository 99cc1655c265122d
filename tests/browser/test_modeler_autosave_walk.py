"""In the browser: the editor saves the draft by itself, every few seconds while there are
changes and when the tab is hidden, and an expired login loses nothing: the work stays in
the browser, is saved once the manager has logged in again, and a closed tab offers it back.

The page's clock is Playwright's fake clock, paused once the editor is loaded: nothing is
saved until the test moves time past the autosave interval (draftsync.js, 4 s)."""
import datetime
import time

import pytest

from app.extensions import db
from app.models import ModelDraft
from tests.browser.test_login import login
from tests.browser.test_modeler_walk import rename, watch_console
from tests.modeler.conftest import demo_v1  # noqa: F401  (fixture)

INTERVAL_MS = 4000
STORE = "wuye-modeler:demo_review:bpmn"
START = datetime.datetime(2026, 11, 25, 9, 0, 0)


@pytest.fixture
def app_config():
    """CSRF protection on, as in production: a new login brings a new session and token."""
    return {"WTF_CSRF_ENABLED": True}


def server_draft() -> str:
    draft = db.session.scalar(db.select(ModelDraft))
    db.session.refresh(draft)
    return draft.bpmn_xml


def open_editor(page, username="liucheng"):
    """Log in and open the demo's editor with the page clock installed, then pause it."""
    page.clock.install(time=START)
    login(page, username)
    page.goto("/modeler/demo_review/edit")
    page.locator('#modeler-app[data-ready="true"]').wait_for()
    page.clock.pause_at(START + datetime.timedelta(minutes=10))


def status(page):
    return page.get_by_test_id("save-status")


def eventually(check, seconds=10.0):
    """Poll the server side until `check()` holds (the request may still be in flight)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not saved on the server"
        time.sleep(0.05)


def test_the_editor_autosaves_after_the_interval_and_when_the_tab_is_hidden(app, demo_v1, factory,  # noqa: F811
                                                                            new_page):
    factory.user("process_manager", username="liucheng")
    page = new_page()
    errors = watch_console(page)
    open_editor(page)

    rename(page, "review", "自动保存的审核")
    status(page).filter(has_text="有未保存的修改").wait_for()
    assert "自动保存的审核" not in server_draft()  # the clock stands still: no save yet
    assert "自动保存的审核" in page.evaluate(f"localStorage.getItem('{STORE}')")

    page.clock.run_for(INTERVAL_MS + 100)
    status(page).filter(has_text="草稿已保存").wait_for()
    assert "自动保存的审核" in server_draft()
    assert page.evaluate(f"localStorage.getItem('{STORE}')") is None

    # Hiding the tab (switching away, closing it) saves at once, without waiting.
    rename(page, "submit", "离开前的修改")
    status(page).filter(has_text="有未保存的修改").wait_for()
    page.evaluate("""() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    }""")
    status(page).filter(has_text="草稿已保存").wait_for()
    assert "离开前的修改" in server_draft()
    assert errors == [], errors


def test_closing_the_tab_saves_the_draft_at_once(app, demo_v1, factory, new_page):  # noqa: F811
    factory.user("process_manager", username="liucheng")
    page = new_page()
    open_editor(page)
    rename(page, "review", "关闭标签前的修改")
    status(page).filter(has_text="有未保存的修改").wait_for()
    with page.expect_event("close"):
        page.close(run_before_unload=True)  # as a user closes it: the page is hidden, then unloaded
    eventually(lambda: "关闭标签前的修改" in server_draft())


def edit_after_the_login_expired(page, name) -> str:
    """Open the editor, let the login expire, rename the review task and try to save: refused,
    said so, the draft unchanged, the work kept in the browser. Returns the draft as it was."""
    open_editor(page)
    before = server_draft()
    page.context.clear_cookies()  # the login expires
    rename(page, "review", name)
    page.get_by_test_id("save-draft").click()
    status(page).filter(has_text="登录已过期").wait_for()
    assert server_draft() == before
    assert name in page.evaluate(f"localStorage.getItem('{STORE}')")
    return before


def test_an_expired_login_keeps_the_work_and_saves_it_after_logging_in_again(app, demo_v1, factory,  # noqa: F811
                                                                            new_page):
    factory.user("process_manager", username="liucheng")
    page = new_page()
    edit_after_the_login_expired(page, "过期后的修改")

    # As the message says: log in again in another tab, come back, save.
    other = page.context.new_page()
    login(other, "liucheng")
    other.get_by_test_id("main-nav").wait_for()
    other.close()
    page.get_by_test_id("save-draft").click()
    status(page).filter(has_text="草稿已保存").wait_for()
    assert "过期后的修改" in server_draft()
    assert page.evaluate(f"localStorage.getItem('{STORE}')") is None


def test_work_left_in_a_closed_tab_after_the_login_expired_is_offered_back(app, demo_v1, factory,  # noqa: F811
                                                                         new_page):
    factory.user("process_manager", username="liucheng")
    page = new_page()
    before = edit_after_the_login_expired(page, "关闭前未保存的修改")
    context = page.context
    page.close()

    page = context.new_page()
    login(page, "liucheng")
    page.goto("/modeler/demo_review/edit")
    page.locator('#modeler-app[data-ready="true"]').wait_for()
    assert server_draft() == before
    local = page.get_by_test_id("local-copy")
    assert "未保存到服务器的修改" in local.inner_text()
    local.get_by_role("button", name="恢复本地副本").click()
    status(page).filter(has_text="草稿已保存").wait_for()
    assert "关闭前未保存的修改" in server_draft()
