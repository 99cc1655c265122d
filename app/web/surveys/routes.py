"""Satisfaction survey pages: the list and results (aggregates only) for staff, opening a
survey, the QR sheet PDF, and the public answer page reached from a household's link."""
from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db, limiter
from app.models import Community, SatisfactionSurvey
from app.permissions import public, roles_required, scoped
from app.services import surveys
from app.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from app.web.inspections.routes import field_errors
from forms.surveys import SurveyAnswerForm, SurveyOpenForm

bp = Blueprint("surveys", __name__)

READERS = ("housing_center", "housing_bureau", "natural_resources", "fire_brigade", "market_regulation",
           "justice_bureau", "street_office", "enterprise", "owners_committee", "admin")


def _rate_limit():
    return current_app.config["SURVEY_RATE_LIMIT"]


SURVEY_COLUMNS = [
    (_l("年度"), lambda row: row[0].year),
    (_l("小区"), lambda row: row[0].community.name),
    (_l("物业企业"), lambda row: row[0].enterprise.name),
    (_l("答卷"), lambda row: row[1]["answers"]),
    (_l("户数"), lambda row: row[1]["households"]),
    (_l("满意率"), lambda row: row[1]["rate"] if row[1]["shown"] else _("答卷不足")),
]


@bp.route("/surveys/")
@roles_required(*READERS)
def index():
    query = scoped(SatisfactionSurvey, current_user).order_by(SatisfactionSurvey.year.desc(),
                                                              SatisfactionSurvey.id.desc())
    if wants_xlsx():
        return xlsx_response("surveys", _("业主满意度调查"), SURVEY_COLUMNS,
                             [(s, surveys.results(s)) for s in db.session.scalars(query)])
    page = db.paginate(query, per_page=30, error_out=False)
    return render_template("surveys/index.html", rows=[(s, surveys.results(s)) for s in page.items], page=page,
                           may_open=current_user.has_role(*surveys.CREATORS))


@bp.route("/surveys/new", methods=["GET", "POST"])
@roles_required(*surveys.CREATORS)
def new():
    communities = db.session.scalars(scoped(Community, current_user).where(Community.enterprise_id.is_not(None))
                                     .order_by(Community.name)).all()
    form = SurveyOpenForm(communities=communities)
    if form.validate_on_submit():
        try:
            survey = surveys.open_survey(current_user, form.community_id.data, form.households.data)
        except ValidationFailed as e:
            field_errors(form, e)
        except ServiceError as e:
            flash(e.message, "danger")
        else:
            flash(_("满意度调查已发起，请打印二维码张贴或分发。"), "success")
            return redirect(url_for("surveys.show", survey_id=survey.id))
    status = 422 if request.method == "POST" else 200
    return render_template("surveys/new.html", form=form, year=surveys.current_year()), status


@bp.route("/surveys/<int:survey_id>")
@roles_required(*READERS)
def show(survey_id):
    survey = surveys.get_for(current_user, survey_id)
    return render_template("surveys/show.html", survey=survey, result=surveys.results(survey),
                           may_manage=current_user.has_role(*surveys.CREATORS), sheets=surveys.sheet_ranges(survey))


@bp.route("/surveys/<int:survey_id>/close", methods=["POST"])
@roles_required(*surveys.CREATORS)
def close(survey_id):
    surveys.close_survey(current_user, survey_id)
    flash(_("满意度调查已结束。"), "success")
    return redirect(url_for("surveys.show", survey_id=survey_id))


@bp.route("/surveys/<int:survey_id>/qr.pdf")
@roles_required(*surveys.CREATORS)
def qr_sheet(survey_id):
    name, pdf = surveys.qr_sheet(current_user, survey_id, request.args.get("from", 1, type=int))
    from urllib.parse import quote
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"})


@bp.route("/s/<int:year>/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_rate_limit)
def answer(year, token):
    """The household's survey (no login): refused clearly for an unknown or other year's
    link, a closed survey or a household that has already answered."""
    try:
        household = surveys.household_for(year, token)
    except NotFound as e:
        return render_template("surveys/refused.html", message=e.message), 404
    except ServiceError as e:
        return render_template("surveys/refused.html", message=e.message), 410
    survey = household.survey
    if surveys.already_answered(household):
        return render_template("surveys/refused.html", message=_("本户已经提交过问卷，每户只能提交一次。"),
                               survey=survey), 409
    form = SurveyAnswerForm()
    if form.validate_on_submit():
        try:
            surveys.answer(year, token, form.data, form.comment.data)
        except Conflict as e:
            return render_template("surveys/refused.html", message=e.message, survey=survey), 409
        except ValidationFailed as e:
            field_errors(form, e)
        else:
            return render_template("surveys/thanks.html", survey=survey)
    status = 422 if request.method == "POST" else 200
    return render_template("surveys/answer.html", form=form, survey=survey, number=household.number), status
