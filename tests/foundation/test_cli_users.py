"""`flask users create NAME --role ROLE --org ID`: the account acts for that organisation;
an unknown organisation, a missing one or one for a role without organisations is refused
and nothing is created."""
import pytest

from app.extensions import db
from app.models import AuditEvent, User
from tests.conftest import PASSWORD


def create(runner, *args):
    return runner.invoke(args=["users", "create", *args, "--password", PASSWORD])


def user_count():
    return db.session.scalar(db.select(db.func.count(User.id)))


def test_an_enterprise_account_acts_for_its_enterprise(runner, factory, auth, client):
    mine, other = factory.enterprise(name="乾州物业"), factory.enterprise(name="峒河物业")
    result = create(runner, "qianzhou", "--role", "enterprise", "--org", str(mine.id))
    assert result.exit_code == 0, result.output
    assert "created qianzhou (enterprise)" in result.output
    user = db.session.scalar(db.select(User).where(User.username == "qianzhou"))
    assert user.enterprise_id == mine.id and user.roles == {"enterprise"}

    assert auth.login("qianzhou").status_code == 302
    page = client.get("/enterprises").get_data(as_text=True)
    assert "乾州物业" in page and "峒河物业" not in page  # it sees its own enterprise only


def test_a_bank_account_gets_its_bank(runner, factory):
    bank = factory.bank()
    assert create(runner, "bank1", "--role", "bank", "--org", str(bank.id)).exit_code == 0
    assert db.session.scalar(db.select(User).where(User.username == "bank1")).bank_id == bank.id


@pytest.mark.parametrize("args, message", [
    (("--role", "enterprise", "--org", "99999"), "所属组织（编号 99999）不存在。"),
    (("--role", "enterprise"), "该角色须指定所属组织。"),
    (("--role", "housing_center", "--org", "1"), "该角色不代表任何组织，不能指定所属组织。"),
])
def test_a_wrong_organisation_is_refused_and_nothing_created(runner, factory, args, message):
    factory.enterprise()  # there is an enterprise, just not that one
    before = user_count()
    result = create(runner, "nobody", *args)
    assert result.exit_code == 1
    assert f"org: {message}" in result.output
    assert user_count() == before
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user.create",
                                                         AuditEvent.after["username"].as_string() == "nobody")) is None

