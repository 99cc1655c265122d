"""Evaluation pages: the scoring standard of each year (housing center: edit, Excel in and
out), opening a year, each evaluation's breakdown and objections, and the public pages
(community result with QR code, city-wide ranking, owners' objection form)."""
import io

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from app.engine.calendar import SHANGHAI, now
from app.extensions import csrf, db, limiter
from app.models import Community
from app.permissions import public, reads_all, roles_required
from app.roles import DEPARTMENT_ROLES, role_name
from app.services import evaluation, public_cache, scoring
from app.services.errors import ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from app.web.paging import paginate_list
from forms.evaluation import ImportForm, ItemForm, ObjectionRaiseForm, OpenYearForm, StandardForm

bp = Blueprint("evaluation", __name__)

MANAGERS = ("housing_center", "admin")
READERS = (*DEPARTMENT_ROLES, "admin", "street_office", "enterprise")
COLUMNS = [
    (_l("年度"), lambda ev: ev.year),
    (_l("物业企业"), lambda ev: ev.enterprise.name),
    (_l("小区"), lambda ev: ev.community.name),
    (_l("状态"), lambda ev: evaluation.STATUSES.get(ev.status, ev.status)),
    (_l("得分"), lambda ev: ev.total),
    (_l("星级"), lambda ev: ev.star_rating),
    (_l("小区等级"), lambda ev: ev.grade),
]


def _field_errors(form, error: ValidationFailed) -> None:
    for name, message in error.fields.items():
        target = form._fields.get(name) or next(iter(f for f in form if f.type != "CSRFTokenField"))
        target.errors = list(target.errors) + [message]


def _this_year() -> int:
    return now().astimezone(SHANGHAI).year


@bp.route("/evaluation/")
@roles_required(*READERS)
def index():
    year = request.args.get("year", type=int) or _this_year()
    query = evaluation.listing(current_user, year)
    if wants_xlsx():  # the whole year, not only the page shown
        return xlsx_response("evaluations", _("%(year)d 年度考评", year=year), COLUMNS, db.session.scalars(query))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("evaluation/index.html", year=year, evaluations=page.items, page=page,
                           standards=scoring.standards(), standard_form=StandardForm(formdata=None),
                           open_form=OpenYearForm(formdata=None, data={"year": year}),
                           statuses=evaluation.STATUSES, may_manage=current_user.has_role(*MANAGERS))


@bp.route("/evaluation/standards", methods=["POST"])
@roles_required(*MANAGERS)
def create_standard():
    form = StandardForm()
    if form.validate_on_submit():
        try:
            standard = scoring.create(current_user, form.year.data, form.title.data or "", form.copy_from.data)
        except ValidationFailed as e:
            db.session.rollback()
            flash(e.fields.get("year", e.message), "danger")
        else:
            flash(_("评分标准已创建。"), "success")
            return redirect(url_for("evaluation.standard", standard_id=standard.id))
    else:
        flash("；".join(str(m) for errors in form.errors.values() for m in errors), "danger")
    return redirect(url_for("evaluation.index"))


@bp.route("/evaluation/standards/<int:standard_id>", methods=["GET", "POST"])
@roles_required(*READERS)
def standard(standard_id):
    standard = scoring.get(standard_id)
    form = ItemForm(formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not current_user.has_role(*MANAGERS):
            return render_template("error.html", status=403, message=_("只有住保中心可以管理评分标准。")), 403
        if form.validate():
            try:
                scoring.add_item(current_user, standard.id, form.data)
            except ValidationFailed as e:
                db.session.rollback()
                _field_errors(form, e)
                status = 422
            except ServiceError as e:
                db.session.rollback()
                flash(e.message, "danger")
                status = e.status
            else:
                flash(_("考评条目已添加。"), "success")
                return redirect(url_for("evaluation.standard", standard_id=standard.id))
        else:
            status = 422
    base = sum((i.max_points for i in standard.items if not i.is_bonus), 0)
    return render_template("evaluation/standard.html", standard=standard, form=form, base=base,
                           may_manage=current_user.has_role(*MANAGERS) and not standard.locked,
                           role_name=role_name), status


@bp.route("/evaluation/items/<int:item_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def delete_item(item_id):
    from app.models import ScoringItem
    item = db.get_or_404(ScoringItem, item_id)
    standard_id = item.standard_id
    try:
        scoring.delete_item(current_user, item_id)
    except ServiceError as e:
        flash(e.message, "danger")
    return redirect(url_for("evaluation.standard", standard_id=standard_id))


@bp.route("/evaluation/standards/<int:standard_id>/export.xlsx")
@roles_required(*READERS)
def export_standard(standard_id):
    standard = scoring.get(standard_id)
    return Response(scoring.export_xlsx(standard),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=scoring-standard-{standard.year}.xlsx"})


@bp.route("/evaluation/standards/<int:standard_id>/import", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def import_standard(standard_id):
    standard = scoring.get(standard_id)
    form = ImportForm()
    upload = form.validate_on_submit() and form.uploaded_table()
    if upload:
        try:
            count = scoring.import_table(current_user, standard.id, *upload)
        except ValidationFailed as e:
            db.session.rollback()
            form.file.errors = list(form.file.errors) + [e.fields.get("file", e.message)]
        except ServiceError as e:
            db.session.rollback()
            form.file.errors = list(form.file.errors) + [e.message]
        else:
            flash(_("已导入 %(n)d 个考评条目。", n=count), "success")
            return redirect(url_for("evaluation.standard", standard_id=standard.id))
    status = 422 if request.method == "POST" else 200
    return render_template("evaluation/import.html", form=form, standard=standard), status


@bp.route("/evaluation/open", methods=["POST"])
@roles_required(*MANAGERS)
def open_year():
    form = OpenYearForm()
    if form.validate_on_submit():
        try:
            job = evaluation.open_year(current_user, form.year.data, form.scoring_due.data)
        except ValidationFailed as e:
            db.session.rollback()
            flash(next(iter(e.fields.values()), e.message) if e.fields else e.message, "danger")
            return redirect(url_for("evaluation.index", year=form.year.data))
        return redirect(url_for("reports.job", job_id=job.id))  # the progress bar, then the result
    flash("；".join(str(m) for errors in form.errors.values() for m in errors), "danger")
    return redirect(url_for("evaluation.index"))


@bp.route("/evaluation/<int:evaluation_id>", methods=["GET", "POST"])
@roles_required(*READERS)
def show(evaluation_id):
    ev = evaluation.get_for(current_user, evaluation_id)
    form = ObjectionRaiseForm(formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not current_user.has_role("enterprise"):
            return render_template("error.html", status=403, message=_("只有被考评企业可以在此提出异议。")), 403
        if form.validate():
            try:
                evaluation.raise_objection(ev.id, form.data, current_user)
            except ValidationFailed as e:
                db.session.rollback()
                _field_errors(form, e)
                flash("；".join(str(m) for m in e.fields.values()) or e.message, "danger")
                status = 422
            else:
                flash(_("异议已提交，住保中心将在公示期内答复。"), "success")
                return redirect(url_for("evaluation.show", evaluation_id=ev.id))
        else:
            status = 422
    return render_template("evaluation/show.html", ev=ev, rows=evaluation.breakdown_table(ev), form=form,
                           progress=evaluation.scoring_progress(ev), show_names=reads_all(current_user),
                           statuses=evaluation.STATUSES, role_name=role_name,
                           may_object=current_user.has_role("enterprise") and evaluation.in_disclosure(ev)), status


# ---------------------------------------------------------------- public

def _cache_headers() -> dict:
    """Shared caches may keep an anonymous visitor's page; a logged-in one shows its own navigation."""
    if current_user.is_authenticated:
        return {"Cache-Control": "private, max-age=60", "Vary": "Cookie"}
    return {"Cache-Control": "public, max-age=60", "Vary": "Cookie"}


def _public_form(formdata=None):
    """Owners object without login: no session to protect, so no CSRF token (the page is
    cached for everyone); the route is rate-limited instead."""
    return ObjectionRaiseForm(formdata=formdata, meta={"csrf": False})


def _community_body(data, form) -> Markup:
    return Markup(render_template("evaluation/_public_community_body.html", form=form, role_name=role_name, **data))


@bp.route("/public/evaluation/communities/<int:community_id>")
@public
def public_community(community_id):
    def build():
        data = evaluation.public_community(community_id)
        return None if data is None else [data["community"].name, str(_community_body(data, _public_form()))]

    # Only the visitor-independent part is cached: the layout around it shows the visitor's own navigation.
    cached = public_cache.get((community_id, str(get_locale())), build)
    if cached is None:
        return render_template("error.html", status=404, message=_("小区不存在。")), 404
    title, body = cached
    return Response(render_template("evaluation/public_community.html", title=title, body=Markup(body)),
                    headers=_cache_headers())


@bp.route("/public/evaluation/communities/<int:community_id>/objections", methods=["POST"])
@public
@csrf.exempt
@limiter.limit(lambda: current_app.config.get("OBJECTION_RATE_LIMIT", "5 per hour"))
def public_objection(community_id):
    form = _public_form(request.form)
    ev = evaluation.latest_public(community_id)
    if ev is None:
        return render_template("error.html", status=404, message=_("该小区暂无考评结果。")), 404
    if form.validate():
        try:
            evaluation.raise_objection(ev.id, form.data)
        except ValidationFailed as e:
            db.session.rollback()
            _field_errors(form, e)
            flash("；".join(str(m) for m in e.fields.values()) or e.message, "danger")
        else:
            return render_template("evaluation/objection_done.html", community=ev.community)
    data = evaluation.public_community(community_id)
    return render_template("evaluation/public_community.html", title=data["community"].name,
                           body=_community_body(data, form)), 422


@bp.route("/public/evaluation/communities/<int:community_id>/qr.svg")
@public
def public_qr(community_id):
    import qrcode
    import qrcode.image.svg
    db.get_or_404(Community, community_id)
    url = url_for("evaluation.public_community", community_id=community_id, _external=True)
    out = io.BytesIO()
    qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2).save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@bp.route("/public/evaluation/communities/<int:community_id>/poster")
@public
def public_poster(community_id):
    """A printable A4 notice with the page's QR code, for the community's notice board."""
    data = evaluation.public_community(community_id)
    if data is None:
        return render_template("error.html", status=404, message=_("小区不存在。")), 404
    return render_template("evaluation/poster.html", **data)


@bp.route("/public/evaluation/ranking")
@public
def public_ranking():
    years = evaluation.public_years()
    year = request.args.get("year", type=int) or (years[0] if years else _this_year())

    def build():
        return render_template("evaluation/_public_ranking_body.html", year=year, years=years,
                               rows=paginate_list(evaluation.ranking(year), 100),
                               enterprises=paginate_list(evaluation.enterprise_ranking(year), 50,
                                                         arg="enterprises_page"))

    pages = (request.args.get("page", 1, type=int), request.args.get("enterprises_page", 1, type=int))
    body = public_cache.get(("ranking", year, *pages, str(get_locale())), build)
    return Response(render_template("evaluation/public_ranking.html", body=Markup(body)), headers=_cache_headers())
