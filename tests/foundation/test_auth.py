"""Login, logout, lockout, password change, CSRF and language."""
import pytest

from app.extensions import db
from app.models import AuditEvent, User
from tests.conftest import PASSWORD


def audit_actions():
    return [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def test_login_shows_role_navigation_and_logout(client, factory, auth):
    factory.user("housing_center", username="zb")
    page = client.get("/login").get_data(as_text=True)
    assert "登录吉首市物业服务企业监管平台" in page
    response = auth.login("zb", follow=True)
    body = response.get_data(as_text=True)
    assert "审计日志" in body and "住保中心" in body
    assert "auth.login" in audit_actions()
    auth.logout()
    assert client.get("/").status_code == 302  # back to the login page


def test_enterprise_navigation_has_no_audit_log(client, factory, auth):
    factory.user("enterprise", username="qy")
    body = auth.login("qy", follow=True).get_data(as_text=True)
    assert "物业企业" in body and "审计日志" not in body
    assert client.get("/admin/audit").status_code == 403


@pytest.mark.parametrize("username,password", [("zb", "wrong-password-1"), ("nobody", PASSWORD)])
def test_wrong_password_or_unknown_user_is_refused_in_chinese(client, factory, auth, username, password):
    factory.user("housing_center", username="zb")
    response = auth.login(username, password)
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert "auth.login_failed" in audit_actions()


def test_account_locks_after_ten_failures_and_admin_unlocks(client, factory, auth, login_as):
    user = factory.user("housing_center", username="zb")
    for _ in range(10):
        auth.login("zb", "wrong-password-1")
    assert db.session.get(User, user.id).locked_at is not None
    assert "用户名或密码不正确" in auth.login("zb").get_data(as_text=True)  # right password, still locked
    admin = login_as("admin")
    assert admin.post(f"/admin/users/{user.id}/unlock").status_code == 302
    assert auth.login("zb").status_code == 302


def test_login_is_rate_limited(app, factory):
    app.config["RATELIMIT_ENABLED"] = True
    from app.extensions import limiter
    limiter.init_app(app)
    limiter.reset()
    client = app.test_client()
    factory.user("housing_center", username="zb")
    codes = [client.post("/login", data={"username": "zb", "password": "bad-password-1"}).status_code for _ in range(12)]
    assert codes[-1] == 429
    assert "操作过于频繁" in client.post("/login", data={"username": "zb", "password": "x"}).get_data(as_text=True)


def test_open_redirect_after_login_is_refused(client, factory, auth):
    factory.user("housing_center", username="zb")
    response = client.post("/login?next=https://evil.example/", data={"username": "zb", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_password_change_validates_and_logs_out_other_sessions(app, factory, login_as):
    user = factory.user("housing_center", username="zb")
    other_session = app.test_client()
    other_session.post("/login", data={"username": "zb", "password": PASSWORD})
    me = app.test_client()
    me.post("/login", data={"username": "zb", "password": PASSWORD})
    bad = me.post("/account/password", data={"current_password": "nope", "new_password": "short", "confirm": "short"})
    assert "当前密码不正确" in bad.get_data(as_text=True) or "密码至少 10 位" in bad.get_data(as_text=True)
    weak = me.post("/account/password", data={"current_password": PASSWORD, "new_password": "onlyletters",
                                              "confirm": "onlyletters"})
    assert "须同时包含字母和数字" in weak.get_data(as_text=True)
    ok = me.post("/account/password", data={"current_password": PASSWORD, "new_password": "New-pass-2026",
                                            "confirm": "New-pass-2026"})
    assert ok.status_code == 302
    assert me.get("/").status_code == 200
    assert other_session.get("/").status_code == 302  # the other session is gone
    assert app.test_client().post("/login", data={"username": "zb", "password": "New-pass-2026"}).status_code == 302
    assert db.session.get(User, user.id).password_hash.startswith("$argon2id$")


def test_cookies_are_httponly_and_samesite(client, factory):
    factory.user("housing_center", username="zb")
    response = client.post("/login", data={"username": "zb", "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_english_can_be_chosen(client, factory, auth):
    factory.user("housing_center", username="zb")
    auth.login("zb")
    client.post("/lang/en", data={"next": "/"})
    body = client.get("/").get_data(as_text=True)
    assert "Audit log" in body and "审计日志" not in body


def test_each_request_speaks_its_own_language(app, client, factory, auth):
    """The translations a page's templates use are looked up per request: an English page
    does not leave English behind for the next visitor, nor a Chinese page Chinese."""
    factory.user("housing_center", username="zb")
    auth.login("zb")
    client.post("/lang/en", data={"next": "/"})
    other = app.test_client()
    for _ in range(2):
        assert "Audit log" in client.get("/").get_data(as_text=True)
        page = other.get("/login").get_data(as_text=True)
        assert "登录吉首市物业服务企业监管平台" in page and "Log in" not in page


def test_error_pages_help_and_hide_internals(client, factory, auth):
    factory.user("housing_center", username="zb")
    auth.login("zb")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "找不到您要的页面" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_post_without_csrf_token_is_refused_and_changes_nothing(self, client, factory):
        factory.user("housing_center", username="zb")
        response = client.post("/login", data={"username": "zb", "password": PASSWORD})
        assert response.status_code == 400
        assert "缺少安全令牌" in response.get_data(as_text=True)
        assert "auth.login" not in audit_actions()

    def test_login_with_csrf_token_from_the_form_works(self, client, factory):
        import re
        factory.user("housing_center", username="zb")
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"username": "zb", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302


def test_oversized_post_is_refused(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"username": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert "提交的内容过大" in response.get_data(as_text=True)
