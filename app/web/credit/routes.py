"""Credit file pages (诚信档案): an enterprise's timeline of good and bad records and the
policy support it is eligible for; the center's staff see every file, an enterprise its own."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import Enterprise
from app.permissions import roles_required
from app.services import credit_file
from app.services.errors import ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from app.web.inspections.routes import field_errors
from forms.credit import CreditRecordForm

bp = Blueprint("credit", __name__, url_prefix="/credit")

COLUMNS = [
    (_l("物业企业"), lambda r: r[0].name),
    (_l("统一社会信用代码"), lambda r: r[0].uscc),
    (_l("有效良好记录"), lambda r: r[1]["good"]),
    (_l("有效不良记录"), lambda r: r[1]["bad"]),
    (_l("有效分值"), lambda r: r[1]["points"]),
]


@bp.route("/")
@roles_required(*credit_file.READERS)
def index():
    if current_user.enterprise_id and not current_user.has_role("housing_center", "housing_bureau", "admin"):
        return redirect(url_for("credit.show", enterprise_id=current_user.enterprise_id))
    query = db.select(Enterprise).order_by(Enterprise.name, Enterprise.id)
    if wants_xlsx():  # every enterprise, not only the page shown
        return xlsx_response("credit-files", _("诚信档案"), COLUMNS,
                             [(e, credit_file.summary(e)) for e in db.session.scalars(query)])
    page = db.paginate(query, per_page=30, error_out=False)
    return render_template("credit/index.html", rows=[(e, credit_file.summary(e)) for e in page.items], page=page)


def _render(enterprise, form, status=200):
    today = now().astimezone(SHANGHAI).date()
    return render_template("credit/show.html", enterprise=enterprise, records=credit_file.timeline(enterprise.id),
                           supports=credit_file.policy_support(enterprise), summary=credit_file.summary(enterprise),
                           in_force=lambda r: credit_file.in_force(r, today), kinds=credit_file.KINDS, form=form,
                           may_add=current_user.has_role("housing_center")), status


@bp.route("/<int:enterprise_id>")
@roles_required(*credit_file.READERS)
def show(enterprise_id):
    return _render(credit_file.enterprise_for(current_user, enterprise_id), CreditRecordForm())


@bp.route("/<int:enterprise_id>/records", methods=["POST"])
@roles_required("housing_center")
def add(enterprise_id):
    enterprise = credit_file.enterprise_for(current_user, enterprise_id)
    form = CreditRecordForm()
    if form.validate_on_submit():
        try:
            credit_file.add_record(current_user, enterprise.id, form.data)
        except ValidationFailed as e:
            field_errors(form, e)
        except ServiceError as e:
            flash(e.message, "danger")
        else:
            flash(_("已记入诚信档案。"), "success")
            return redirect(url_for("credit.show", enterprise_id=enterprise.id))
    return _render(enterprise, form, 422)
