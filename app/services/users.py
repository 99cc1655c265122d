"""Accounts: creation, login with lockout, password changes, API tokens."""
import secrets
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import ApiToken, User, UserRole
from app.models.base import utcnow
from app.roles import ORG_ROLES, ROLES
from app.services import audit
from app.services.errors import NotFound, ValidationFailed

LOCK_AFTER_FAILURES = 10
_hashers: dict[str, PasswordHasher] = {}


def hasher() -> PasswordHasher:
    """Argon2id with the configured profile (tests use the cheapest to stay fast)."""
    name = current_app.config.get("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY") if has_app_context() else "RFC_9106_LOW_MEMORY"
    if name not in _hashers:
        _hashers[name] = PasswordHasher.from_parameters(getattr(profiles, name))
    return _hashers[name]


def password_problem(password: str) -> str | None:
    if len(password or "") < 10:
        return _("密码至少 10 位。")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return _("密码须同时包含字母和数字。")
    return None


def _org_model(column: str):
    """The organisation model a User column points to: enterprise_id → Enterprise, …"""
    return getattr(User, column.removesuffix("_id")).property.mapper.class_


def create_user(username, password, roles, *, display_name="", org_id=None, actor=None) -> User:
    username = (username or "").strip()
    errors = {}
    if not username:
        errors["username"] = _("请填写用户名。")
    elif db.session.scalar(db.select(User.id).where(User.username == username)):
        errors["username"] = _("用户名已存在。")
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        errors["roles"] = _("未知角色：%(roles)s", roles=", ".join(unknown) or "-")
    if problem := password_problem(password):
        errors["password"] = problem
    org_columns = {ORG_ROLES[r] for r in roles if r in ORG_ROLES}
    if len(org_columns) > 1:
        errors["roles"] = _("一个账号只能代表一个组织。")
    if org_columns and org_id is None:
        errors["org"] = _("该角色须指定所属组织。")
    elif org_id is not None and not org_columns:
        errors["org"] = _("该角色不代表任何组织，不能指定所属组织。")
    elif len(org_columns) == 1 and db.session.get(_org_model(next(iter(org_columns))), org_id) is None:
        errors["org"] = _("所属组织（编号 %(id)s）不存在。", id=org_id)
    if errors:
        raise ValidationFailed(_("账号信息有误。"), errors)
    user = User(username=username, display_name=display_name or username, password_hash=hasher().hash(password))
    if org_columns:
        setattr(user, org_columns.pop(), org_id)
    user.role_rows = [UserRole(role=r) for r in sorted(set(roles))]
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, after={"username": username, "roles": sorted(set(roles))}, actor=actor)
    db.session.commit()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right and the account usable; failures are counted
    and audited, and the account locks after LOCK_AFTER_FAILURES in a row."""
    user = db.session.scalar(db.select(User).where(User.username == (username or "").strip()))
    if user is None:
        try:  # spend the same time as for a real user, so timing does not reveal usernames
            hasher().verify(hasher().hash("wuye-dummy"), password or "")
        except VerificationError:
            pass
        audit.record("auth.login_failed", target_type="User", target_id="", after={"username": username})
        db.session.commit()
        return None
    try:
        hasher().verify(user.password_hash, password or "")
        ok = True
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or not user.is_active:
        if not ok:
            user.failed_logins += 1
            if user.failed_logins >= LOCK_AFTER_FAILURES and user.locked_at is None:
                user.locked_at = utcnow()
                audit.record("auth.locked", user, actor=user)
        audit.record("auth.login_failed", user, after={"username": user.username}, actor=user)
        db.session.commit()
        return None
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hasher().hash(password)
    user.failed_logins = 0
    audit.record("auth.login", user, actor=user)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    try:
        hasher().verify(user.password_hash, current or "")
    except (VerificationError, InvalidHashError):
        raise ValidationFailed(_("当前密码不正确。"), {"current_password": _("当前密码不正确。")})
    if problem := password_problem(new):
        raise ValidationFailed(problem, {"new_password": problem})
    user.password_hash = hasher().hash(new)
    user.session_version += 1
    audit.record("user.password_change", user, actor=user)
    db.session.commit()


def unlock(user: User, actor: User) -> None:
    user.locked_at = None
    user.failed_logins = 0
    audit.record("user.unlock", user, actor=actor)
    db.session.commit()


def set_language(user: User, locale: str) -> None:
    """The language the user chose, kept with the account: the pages follow it on every device,
    and what the system tells them (notifications, SMS, email) is written in it."""
    if locale in current_app.config["LANGUAGES"] and user.locale != locale:
        user.locale = locale
        db.session.commit()


def issue_token(user: User, name: str = "") -> str:
    """A new API token; the plain value is returned once and only its hash is stored."""
    token = "wy_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name, token_hash=ApiToken.hash(token), prefix=token[:10]))
    audit.record("api_token.issue", user, after={"name": name, "prefix": token[:10]}, actor=user)
    db.session.commit()
    return token


def revoke_token(token_id: int, actor: User) -> None:
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(_("令牌不存在。"))
    row.revoked_at = utcnow()
    audit.record("api_token.revoke", row, actor=actor)
    db.session.commit()


def user_for_token(token: str) -> tuple[User, ApiToken] | None:
    """The token's user with its roles, in one statement (every API request asks)."""
    row = db.session.execute(_token_query(), {"token_hash": ApiToken.hash(token or "")}).unique().scalar()
    if row is None or not row.is_valid or not row.user.is_active:
        return None
    return row.user, row


@cache
def _token_query():
    """Built once (building it cost more than running it), run with the token's hash."""
    return (db.select(ApiToken).where(ApiToken.token_hash == db.bindparam("token_hash"))
            .options(joinedload(ApiToken.user).joinedload(User.role_rows)))


def add_substitute(user: User, username: str, starts_on, ends_on):
    """`username` may act on `user`'s tasks from starts_on to ends_on; recorded in history."""
    from app.models import Substitute
    substitute = db.session.scalar(db.select(User).where(User.username == (username or "").strip()))
    if substitute is None or not substitute.is_active:
        raise ValidationFailed(_("代理人不存在。"), {"username": _("代理人不存在。")})
    if substitute.id == user.id:
        raise ValidationFailed(_("不能指定自己为代理人。"), {"username": _("不能指定自己为代理人。")})
    if ends_on < starts_on:
        raise ValidationFailed(_("结束日期不能早于开始日期。"), {"ends_on": _("结束日期不能早于开始日期。")})
    row = Substitute(user_id=user.id, substitute_id=substitute.id, starts_on=starts_on, ends_on=ends_on)
    db.session.add(row)
    db.session.flush()
    audit.record("user.substitute", row, after={"substitute": substitute.username, "from": starts_on,
                                                "to": ends_on}, actor=user)
    db.session.commit()
    return row


def substitutes_of(user: User) -> list:
    from app.models import Substitute
    return db.session.scalars(db.select(Substitute).where(Substitute.user_id == user.id)
                              .order_by(Substitute.starts_on.desc())).all()


def remove_substitute(user: User, row_id: int) -> None:
    from app.models import Substitute
    row = db.session.get(Substitute, row_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_("代理记录不存在。"))
    audit.record("user.substitute_removed", row, actor=user)
    db.session.delete(row)
    db.session.commit()
