"""Emergency takeover pages: the list with deadlines (all takeovers for the housing center,
a street's own for a street office), opening a takeover, a takeover's page, the
recommendation list for new business, and the register of street office heads."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models import HumanTask, StreetOffice, StreetOfficeHead, User, UserRole
from app.permissions import roles_required
from app.roles import DEPARTMENT_ROLES
from app.services import takeover as service
from app.services.errors import ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from app.web.paging import paginate_list
from forms.takeover import HeadForm, OpenTakeoverForm

bp = Blueprint("takeover", __name__, url_prefix="/takeovers")

READERS = ("housing_center", "housing_bureau", "admin", "street_office", "enterprise", "owners_committee")
RECOMMENDATION_READERS = (*DEPARTMENT_ROLES, "admin", "street_office")


RECOMMENDATION_COLUMNS = [
    (_l("排名"), lambda r: r[0]),
    (_l("企业"), lambda r: r[1].enterprise.name),
    (_l("星级"), lambda r: r[2].stars if r[2] else None),
    (_l("诚信档案分值"), lambda r: r[2].credit_points if r[2] else None),
    (_l("良好记录"), lambda r: r[2].good_records if r[2] else None),
    (_l("不良记录"), lambda r: r[2].bad_records if r[2] else None),
    (_l("不予推荐的原因"), lambda r: "；".join(r[1].reason_texts()) if r[0] is None else ""),
]


def _labels():
    return {"statuses": service.STATUSES, "causes": service.CAUSES, "scope": service.BASIC_SCOPE,
            "items": service.HANDOVER_ITEMS, "candidate_statuses": service.CANDIDATE_STATUSES}


@bp.app_template_global("community_takeover")
def community_takeover(community_id: int):
    """For the community page: its open (else latest) emergency takeover."""
    return service.community_status(community_id)


TAKEOVER_COLUMNS = [
    (_l("小区"), lambda r: r["t"].community.name),
    (_l("街道办事处"), lambda r: r["t"].street_office.name),
    (_l("应急服务企业"), lambda r: r["t"].enterprise.name if r["t"].enterprise else ""),
    (_l("状态"), lambda r: service.STATUSES.get(r["t"].status, r["t"].status)),
    (_l("服务期起"), lambda r: r["t"].starts_on),
    (_l("服务期止"), lambda r: r["t"].ends_on),
    (_l("下一期限"), lambda r: f'{r["deadline_label"] or ""}'),
    (_l("期限时间"), lambda r: r["deadline"]),
]


@bp.route("/")
@roles_required(*READERS)
def index():
    status = request.args.get("status") or None
    rows = service.overview(current_user, status)
    if wants_xlsx():
        return xlsx_response("takeovers", _("应急接管"), TAKEOVER_COLUMNS, rows)
    return render_template("takeover/index.html", rows=rows, status=status,
                           may_open=service.may_open(current_user), **_labels())


@bp.route("/new", methods=["GET", "POST"])
@roles_required("street_office")
def new():
    form = OpenTakeoverForm()
    if form.validate_on_submit():
        try:
            takeover = service.open_takeover(current_user, form.data)
        except ValidationFailed as e:
            for name, message in e.fields.items():
                if name in form._fields:
                    form._fields[name].errors = list(form._fields[name].errors) + [message]
            flash(e.message, "danger")
        except ServiceError as e:
            flash(e.message, "danger")
        else:
            flash(_("应急接管已发起，请提出应急服务企业人选和服务期。"), "success")
            task = service.open_task(takeover)
            return redirect(url_for("inbox.task", task_id=task.id) if task else
                            url_for("takeover.show", takeover_id=takeover.id))
    return render_template("takeover/new.html", form=form), 422 if request.method == "POST" else 200


@bp.route("/<int:takeover_id>")
@roles_required(*READERS)
def show(takeover_id):
    t = service.get_for(current_user, takeover_id)
    tasks = db.session.scalars(db.select(HumanTask).where(HumanTask.instance_id == t.instance_id,
                                                          HumanTask.status == "open")).all() if t.instance_id else []
    label, deadline = service.next_deadline(t)
    return render_template("takeover/show.html", t=t, tasks=tasks, deadline_label=label, deadline=deadline,
                           note=service.candidate_note, exception_note=service.EXCEPTION_NOTE, **_labels())


@bp.route("/recommendations")
@roles_required(*RECOMMENDATION_READERS)
def recommendations():
    recommended, excluded = service.recommendations()
    if wants_xlsx():  # the ranked list, then the enterprises not recommended with their reasons
        rows = [(rank, e, ev) for rank, (e, ev) in enumerate(recommended, start=1)] + [(None, e, None)
                                                                                     for e in excluded]
        return xlsx_response("recommendations", _("承接新业务推荐名录"), RECOMMENDATION_COLUMNS, rows)
    return render_template("takeover/recommendations.html", recommended=paginate_list(recommended, 50),
                           excluded=paginate_list(excluded, 50, arg="excluded_page"),
                           any_rated=any(ev.stars is not None for _e, ev in recommended),
                           rated_year=service.rated_year())


@bp.route("/heads", methods=["GET", "POST"])
@roles_required("housing_center", "admin")
def heads():
    form = HeadForm()
    form.street_office_id.choices = [(o.id, o.name) for o in db.session.scalars(
        db.select(StreetOffice).order_by(StreetOffice.name))]
    form.user_id.choices = [(u.id, f"{u.display_name or u.username}（{u.street_office.name}）") for u in db.session.scalars(
        db.select(User).join(UserRole).where(UserRole.role == "street_office", User.street_office_id.is_not(None))
        .order_by(User.username))]
    if form.validate_on_submit():
        try:
            service.register_head(form.user_id.data, form.street_office_id.data, current_user)
        except ValidationFailed as e:
            form.user_id.errors = list(form.user_id.errors) + [e.fields.get("user_id", e.message)]
        else:
            flash(_("街道办事处负责人已登记。"), "success")
            return redirect(url_for("takeover.heads"))
    rows = db.session.scalars(db.select(StreetOfficeHead).join(StreetOffice)
                              .order_by(StreetOffice.name)).all()
    return render_template("takeover/heads.html", form=form, rows=rows)
