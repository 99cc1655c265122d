"""The 403 and 500 pages help the user and expose nothing: a Chinese message and a way
back; for a crash no traceback, no exception text, no secret — and the API answers JSON."""
import pytest

from app.extensions import db
from app.models import Enterprise
from app.services import dashboards

SECRET_BITS = ("Traceback", "RuntimeError", "dashboards.py", "test-secret", "postgresql", "sqlite")


@pytest.fixture
def crash(app, monkeypatch):
    """A real page fails deep inside with an error whose text carries internals."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]

    def broken(*args, **kwargs):
        db.session.add(Enterprise(name="半途写入物业", uscc="91350100M000100Y43"))
        db.session.flush()
        raise RuntimeError(f"cannot reach {uri} with SECRET_KEY={app.config['SECRET_KEY']}")

    monkeypatch.setattr(dashboards, "for_user", broken)


def test_403_page_is_in_chinese_with_a_way_home(login_as):
    client = login_as("enterprise")
    response = client.get("/admin/audit")
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "您没有权限访问此页面或执行此操作。" in body and "返回首页" in body
    assert 'lang="zh-CN"' in body and "物业服务企业" in body  # the normal layout, with the user's role


def test_403_from_the_api_is_json(api_client):
    client, headers = api_client("bank")
    refused = client.post("/api/v1/messages", headers=headers, json={"name": "x", "correlation_key": "y"})
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "forbidden", "message": "您无权投递消息。", "fields": {}}


def test_500_page_hides_internals_and_writes_nothing(login_as, crash, caplog):
    client = login_as("housing_center")
    response = client.get("/")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "系统出现错误，已记录，请稍后再试。" in body and "返回首页" in body
    for bit in SECRET_BITS:
        assert bit not in body, bit
    assert "SECRET_KEY=test-secret" in caplog.text  # the details go to the log, for the operators
    assert db.session.scalar(db.select(db.func.count(Enterprise.id))) == 0  # the half-done write was rolled back
    assert client.get("/cases").status_code == 200  # and the next request works


def test_500_from_the_api_is_json_without_internals(app, api_client, factory, monkeypatch):
    from app.api import orgs as orgs_api

    def broken(enterprise):
        raise RuntimeError(f"SECRET_KEY={app.config['SECRET_KEY']}")

    monkeypatch.setattr(orgs_api, "enterprise_json", broken)
    factory.enterprise()
    client, headers = api_client("housing_center")
    response = client.get("/api/v1/enterprises", headers=headers)
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal_error", "message": "系统出现错误，已记录，请稍后再试。", "fields": {}}
