"""Home page: the user's dashboard entry point."""
from flask import Blueprint, render_template
from flask_login import current_user

from app.extensions import db
from app.models import Community, Enterprise
from app.permissions import login_required, public, scoped
from app.services import dashboards

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def index():
    enterprise_count = db.session.scalar(db.select(db.func.count()).select_from(scoped(Enterprise).subquery()))
    community_count = db.session.scalar(db.select(db.func.count()).select_from(scoped(Community).subquery()))
    from app.models import Notification
    from app.services.notify import overdue_for
    digest = db.session.scalar(db.select(Notification).where(Notification.user_id == current_user.id,
                                                             Notification.kind == "digest")
                               .order_by(Notification.id.desc()).limit(1))
    dashboard, figures = dashboards.for_user(current_user)
    return render_template("main/index.html", enterprise_count=enterprise_count, community_count=community_count,
                           user=current_user, overdue=overdue_for(current_user), digest=digest,
                           dashboard=dashboard, d=figures)


@bp.route("/healthz")
@public
def healthz():
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
