"""Who may do what, in one place, for pages and the API alike.

`roles_required` guards a view by role; `scoped` narrows a query to the records the user
may see (an enterprise sees only its own enterprise and communities, a bank its own
records, a street office its own communities); `ensure_visible` refuses one record.
"""
from functools import wraps

from flask import abort
from flask_login import current_user

from app.extensions import db
from app.models import Community, Enterprise
from app.roles import DEPARTMENT_ROLES, SUPERVISOR_ROLES

# Every government department reads across organisations.
READ_ALL_ROLES = SUPERVISOR_ROLES | set(DEPARTMENT_ROLES) | {"process_manager"}


def public(view):
    """Marks a view that anyone may open without logging in (public disclosure pages, the
    login page). The permissions-matrix test refuses any view that declares no policy."""
    view.public = True
    return view


def login_required(view):
    """Any logged-in user; what they see is narrowed by `scoped` and the services."""
    return roles_required()(view)


def roles_required(*roles):
    """Only a logged-in user holding one of `roles` may call the view (403 otherwise);
    no roles: any logged-in user."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager
                return login_manager.unauthorized()
            if roles and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def reads_all(user) -> bool:
    return user.has_role(*READ_ALL_ROLES)


def _enterprise_scope(query, user):
    if reads_all(user):
        return query
    if user.enterprise_id:
        return query.where(Enterprise.id == user.enterprise_id)
    if user.street_office_id:
        served = db.select(Community.enterprise_id).where(Community.street_office_id == user.street_office_id)
        return query.where(Enterprise.id.in_(served))
    return query.where(db.false())


def _community_scope(query, user):
    if reads_all(user):
        return query
    if user.enterprise_id:
        return query.where(Community.enterprise_id == user.enterprise_id)
    if user.street_office_id:
        return query.where(Community.street_office_id == user.street_office_id)
    if user.owners_committee_id and user.owners_committee:
        return query.where(Community.id == user.owners_committee.community_id)
    if user.community_id:
        return query.where(Community.id == user.community_id)
    return query.where(db.false())


SCOPES = {Enterprise: _enterprise_scope, Community: _community_scope}


def register_scope(model):
    """Domain modules add the scoping rule for their own models with this decorator."""

    def decorator(fn):
        SCOPES[model] = fn
        return fn

    return decorator


def scoped(model, user=None, query=None):
    user = user or current_user
    query = query if query is not None else db.select(model)
    return SCOPES[model](query, user)


def ensure_visible(model, obj_id, user=None):
    """The record if `user` may see it; 404 otherwise (not 403: don't confirm it exists)."""
    user = user or current_user
    obj = db.session.scalar(scoped(model, user).where(model.id == obj_id))
    if obj is None:
        abort(404)
    return obj


# ---------------------------------------------------------------- cases and tasks

# For a task of an organisation's role, the user's organisation must be the case's.
_TASK_ORG_COLUMN = {"enterprise": "enterprise_id", "bank": "bank_id", "device_supplier": "device_supplier_id",
                    "street_office": "street_office_id"}


def _org_matches(user, role: str, record) -> bool:
    column = _TASK_ORG_COLUMN.get(role)
    if column:
        return getattr(record, column) is not None and getattr(record, column) == getattr(user, column)
    if role == "owners_committee":
        return bool(user.owners_committee) and record.community_id == user.owners_committee.community_id
    if role == "owner":
        return record.community_id is not None and record.community_id == user.community_id
    if role == "mediator":
        return record.instance_id in _mediated_instances(user)
    return True


def _mediator_cases(user):
    """Dispute cases a mediator works on: those assigned to them."""
    from app.models import Dispute
    return db.select(Dispute.instance_id).where(Dispute.mediator_id == user.id, Dispute.instance_id.is_not(None))


def _mediated_instances(user) -> set:
    return set(db.session.scalars(_mediator_cases(user)))


def _may_act_directly(user, task) -> bool:
    return task.role in user.roles and _org_matches(user, task.role, task)


def principals(user) -> list:
    """The user, and everyone the user substitutes for today (out-of-office cover); read
    once per request (the inbox page's list and its tab counts each ask)."""
    from app.engine.calendar import now
    from app.models import Substitute, User
    from flask import current_app
    from zoneinfo import ZoneInfo
    from app.extensions import request_memo
    memo = request_memo("principals")
    if user.id not in memo:
        today = now().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
        memo[user.id] = db.session.scalars(db.select(User).join(Substitute, Substitute.user_id == User.id).where(
            Substitute.substitute_id == user.id, Substitute.starts_on <= today, Substitute.ends_on >= today)).all()
    return [user, *memo[user.id]]


def acting_for(user, task):
    """None when the user may act on the task in their own right; else the absent user
    they substitute for; raises LookupError when neither."""
    if _may_act_directly(user, task):
        return None
    for principal in principals(user)[1:]:
        if _may_act_directly(principal, task):
            return principal
    raise LookupError


def may_act_on_task(user, task) -> bool:
    """Holds the task's role (in person or as a substitute) and, for an organisation's
    role, belongs to the case's organisation."""
    try:
        acting_for(user, task)
        return True
    except LookupError:
        return False


def actionable_tasks(user, query=None):
    """Open-task query narrowed to the tasks `user` may act on (an index-only filter)."""
    from app.models import HumanTask
    query = query if query is not None else db.select(HumanTask)
    clauses = []
    for principal in principals(user):
        clauses.extend(_role_clauses(principal))
    return query.where(db.or_(*clauses) if clauses else db.false())


def _role_clauses(user) -> list:
    from app.models import HumanTask
    clauses = []
    for role in user.roles:
        clause = HumanTask.role == role
        column = _TASK_ORG_COLUMN.get(role)
        if column:
            clause = clause & (getattr(HumanTask, column) == getattr(user, column))
        elif role == "owners_committee":
            clause = clause & (HumanTask.community_id == (user.owners_committee.community_id
                                                          if user.owners_committee else None))
        elif role == "owner":
            clause = clause & (HumanTask.community_id == user.community_id)
        elif role == "mediator":
            clause = clause & HumanTask.instance_id.in_(_mediator_cases(user))
        clauses.append(clause)
    return clauses


def visible_instances(user, query=None):
    """Cases a user may read: supervisors all; an organisation those it belongs to."""
    from app.models import ProcessInstance as PI
    query = query if query is not None else db.select(PI)
    if reads_all(user):
        return query
    clauses = []
    if user.enterprise_id:
        clauses.append(PI.enterprise_id == user.enterprise_id)
    if user.bank_id:
        clauses.append(PI.bank_id == user.bank_id)
    if user.device_supplier_id:
        clauses.append(PI.device_supplier_id == user.device_supplier_id)
    if user.street_office_id:
        clauses.append(PI.street_office_id == user.street_office_id)
    if user.owners_committee:
        clauses.append(PI.community_id == user.owners_committee.community_id)
    if user.has_role("mediator"):  # the disputes of the streets whose committee they sit on, and their own
        from app.models import Dispute
        clauses.append(PI.id.in_(scoped(Dispute, user, db.select(Dispute.instance_id))))
    return query.where(db.or_(*clauses) if clauses else db.false())


def may_supervise(user, role: str | None = None) -> bool:
    """Supervisors reassign, retry incidents, suspend and terminate cases."""
    return user.has_role("housing_center", "admin")
