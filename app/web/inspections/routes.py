"""Daily inspection pages: the findings list (overdue ones marked), the inspector's form,
an inspection with its photos, a finding with the enterprise's response and appeal and the
housing center's decision."""
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import Inspection, InspectionPhoto
from app.permissions import roles_required, scoped
from app.roles import role_name
from app.services import attachments, inspections
from app.services.errors import ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from forms.inspections import AppealDecisionForm, AppealForm, InspectionForm, ResponseForm

bp = Blueprint("inspections", __name__, url_prefix="/inspections")

READERS = (*inspections.INSPECTOR_ROLES, "enterprise", "admin")


def field_errors(form, error: ValidationFailed) -> None:
    """Put a service's field errors at their fields, nested rows ("findings-0-points") included."""
    fields = {}

    def walk(f):
        for field in f:
            fields[field.name] = field
            for entry in getattr(field, "entries", ()):  # a FieldList of FormFields
                if hasattr(entry, "form"):
                    walk(entry.form)
    walk(form)
    for name, message in error.fields.items():
        if name in fields:
            fields[name].errors = list(fields[name].errors) + [message]
    flash(error.message, "danger")


FINDING_COLUMNS = [
    (_l("小区"), lambda f: f.community.name),
    (_l("物业企业"), lambda f: f.enterprise.name),
    (_l("检查日期"), lambda f: f.inspection.inspected_on),
    (_l("检查部门"), lambda f: role_name(f.inspection.department)),
    (_l("检查项目"), lambda f: f.item),
    (_l("问题"), lambda f: f.description),
    (_l("扣分"), lambda f: f.points),
    (_l("整改期限"), lambda f: f.deadline),
    (_l("状态"), lambda f: inspections.STATUSES.get(f.status, f.status)),
    (_l("超期"), lambda f: _("是") if inspections.is_overdue(f) else ""),
]


@bp.route("/")
@roles_required(*READERS)
def index():
    status = request.args.get("status") or "open"
    if status == "inspections":
        rows = db.session.scalars(scoped(Inspection, current_user).order_by(Inspection.inspected_on.desc(),
                                                                           Inspection.id.desc()).limit(200)).all()
        return render_template("inspections/index.html", inspections=rows, status=status,
                               may_inspect=inspections.department_of(current_user))
    overdue = status == "overdue"
    rows = inspections.findings_for(current_user, status=None if status == "all" else status, overdue=overdue)
    if wants_xlsx():
        return xlsx_response("findings", _("日常检查发现的问题"), FINDING_COLUMNS, rows)
    return render_template("inspections/index.html", rows=rows, status=status, moment=now(),
                           statuses=inspections.STATUSES, may_inspect=inspections.department_of(current_user))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*inspections.INSPECTOR_ROLES)
def new():
    form = InspectionForm(communities=inspections.communities_for(current_user))
    if request.method == "GET":
        form.inspected_on.data = now().astimezone(SHANGHAI).date()  # today in Jishou, not in UTC
    if form.validate_on_submit():
        try:
            inspection = inspections.record(current_user, {**form.data, "findings": form.findings.data},
                                            request.files.getlist("photos"))
        except ValidationFailed as e:
            field_errors(form, e)
        except ServiceError as e:
            flash(e.message, "danger")
            return render_template("inspections/new.html", form=form), e.status
        else:
            flash(_("检查记录已保存，企业已可看到发现的问题。"), "success")
            return redirect(url_for("inspections.show", inspection_id=inspection.id))
        return render_template("inspections/new.html", form=form), 422
    return render_template("inspections/new.html", form=form), 422 if form.errors else 200


@bp.route("/<int:inspection_id>")
@roles_required(*READERS)
def show(inspection_id):
    inspection = inspections.get_inspection(current_user, inspection_id)
    return render_template("inspections/show.html", inspection=inspection, moment=now(),
                           statuses=inspections.STATUSES)


@bp.route("/<int:inspection_id>/photos/<int:attachment_id>")
@roles_required(*READERS)
def photo(inspection_id, attachment_id):
    inspection = inspections.get_inspection(current_user, inspection_id)
    link = db.session.get(InspectionPhoto, (inspection.id, attachment_id))
    if link is None:
        abort(404)
    return send_file(attachments.path_of(link.attachment), mimetype=link.attachment.content_type,
                     download_name=link.attachment.filename)


def _render_finding(finding, status=200, **forms):
    forms.setdefault("response_form", ResponseForm())
    forms.setdefault("appeal_form", AppealForm())
    forms.setdefault("decision_form", AppealDecisionForm())
    return render_template("inspections/finding.html", f=finding, statuses=inspections.STATUSES,
                           overdue=inspections.is_overdue(finding),
                           is_enterprise=current_user.enterprise_id == finding.enterprise_id,
                           may_decide=current_user.has_role("housing_center"), **forms), status


@bp.route("/findings/<int:finding_id>")
@roles_required(*READERS)
def finding(finding_id):
    return _render_finding(inspections.get_finding(current_user, finding_id))


def _act(finding_id, form, action, form_name, done):
    finding = inspections.get_finding(current_user, finding_id)
    if form.validate_on_submit():
        try:
            action(finding)
        except ValidationFailed as e:
            field_errors(form, e)
        except ServiceError as e:
            flash(e.message, "danger")
            return _render_finding(finding, e.status, **{form_name: form})
        else:
            flash(done, "success")
            return redirect(url_for("inspections.finding", finding_id=finding.id))
    return _render_finding(finding, 422, **{form_name: form})


@bp.route("/findings/<int:finding_id>/respond", methods=["POST"])
@roles_required("enterprise")
def respond(finding_id):
    form = ResponseForm()
    return _act(finding_id, form, lambda f: inspections.respond(current_user, f.id, form.response.data),
                "response_form", _("整改情况已提交。"))


@bp.route("/findings/<int:finding_id>/appeal", methods=["POST"])
@roles_required("enterprise")
def appeal(finding_id):
    form = AppealForm()
    return _act(finding_id, form, lambda f: inspections.appeal(current_user, f.id, form.reason.data),
                "appeal_form", _("申诉已提交，由住保中心决定。"))


@bp.route("/findings/<int:finding_id>/decide", methods=["POST"])
@roles_required("housing_center")
def decide(finding_id):
    form = AppealDecisionForm()
    return _act(finding_id, form, lambda f: inspections.decide_appeal(current_user, f.id, form.accepted.data == "yes",
                                                                      form.note.data),
                "decision_form", _("申诉决定已保存。"))
