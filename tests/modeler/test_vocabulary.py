"""The editor's pick lists come from one endpoint: the registered forms a user task may name,
the operators a service task may call with the parameters each declares, the messages a
catch event may wait for, and the roles a lane may stand for. Only editors see it."""
import pytest

URL = "/modeler/demo_review/vocabulary.json"


def test_the_vocabulary_lists_forms_operators_with_parameters_messages_and_roles(demo_v1, manager):
    response = manager.get(URL)
    assert response.status_code == 200 and response.is_json
    vocab = response.get_json()

    forms = {f["key"]: f["label"] for f in vocab["forms"]}
    assert {"demo.SubmitForm", "demo.ReviewForm", "disputes.TriageForm"} <= set(forms)

    operators = {o["name"]: o for o in vocab["operators"]}
    balance = operators["demo.account_balance"]
    assert balance["external"] is True and balance["label"] == "查询监管账户余额（演示）"
    assert balance["params"] == [{"name": "account_no", "label": "监管账号"}]
    assert operators["disputes.rectified"]["external"] is False
    assert [p["name"] for p in operators["disputes.rectified"]["params"]] == ["dispute_id", "measures"]

    messages = {m["name"]: m["label"] for m in vocab["messages"]}
    assert messages["demo.confirmed"] == "演示：确认" and "devices.healthy" in messages

    roles = {r["code"]: r["name"] for r in vocab["roles"]}
    assert roles["housing_center"] == "住保中心" and roles["housing_bureau"] == "住建局"
    assert roles["process_manager"] == "流程管理员"


def test_an_administrator_sees_the_same_vocabulary(demo_v1, manager, login_as):
    admin = login_as("admin")
    assert admin.get(URL).get_json() == manager.get(URL).get_json()


@pytest.mark.parametrize("role", ["housing_center", "housing_bureau", "enterprise", "bank"])
def test_other_roles_are_refused_the_vocabulary(demo_v1, login_as, role):
    response = login_as(role).get(URL)
    assert response.status_code == 403
    assert "demo.account_balance" not in response.get_data(as_text=True)


def test_anonymous_users_are_sent_to_login_for_the_vocabulary(demo_v1, client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
