"""Enterprises and communities: lists and detail pages, scoped to what the user may see."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import Community, Enterprise
from app.permissions import ensure_visible, login_required, roles_required, scoped
from app.services import orgs
from app.services.errors import ValidationFailed
from forms.orgs import EnterpriseForm

bp = Blueprint("orgs", __name__)


@bp.route("/enterprises")
@login_required
def enterprise_list():
    q = (request.args.get("q") or "").strip()
    query = scoped(Enterprise).order_by(Enterprise.name)
    if q:
        query = query.where(Enterprise.name.contains(q) | Enterprise.uscc.contains(q.upper()))
    page = db.paginate(query, per_page=30, error_out=False)
    return render_template("orgs/enterprises.html", page=page, q=q)


@bp.route("/enterprises/new", methods=["GET", "POST"])
@roles_required("housing_center", "admin")
def enterprise_new():
    form = EnterpriseForm()
    if form.validate_on_submit():
        try:
            enterprise = orgs.create_enterprise(form.data, actor=current_user)
        except ValidationFailed as e:
            for name, message in e.fields.items():
                getattr(form, name).errors.append(message)
        else:
            flash(_("企业已登记。"), "success")
            return redirect(url_for("orgs.enterprise_detail", enterprise_id=enterprise.id))
    return render_template("orgs/enterprise_form.html", form=form)


@bp.route("/enterprises/<int:enterprise_id>")
@login_required
def enterprise_detail(enterprise_id):
    enterprise = ensure_visible(Enterprise, enterprise_id)
    communities = db.session.scalars(scoped(Community).where(Community.enterprise_id == enterprise.id)
                                     .order_by(Community.name)).all()
    return render_template("orgs/enterprise.html", enterprise=enterprise, communities=communities)


@bp.route("/communities")
@login_required
def community_list():
    page = db.paginate(scoped(Community).order_by(Community.name), per_page=30, error_out=False)
    return render_template("orgs/communities.html", page=page)


@bp.route("/communities/<int:community_id>")
@login_required
def community_detail(community_id):
    community = ensure_visible(Community, community_id)
    return render_template("orgs/community.html", community=community)
