"""Fee collection pages (policy 五(四)): collection rates, a community's roll, receipts,
arrears list (Excel, PDF), reminder rounds and the owners' committee's urging."""
import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import Community
from app.permissions import roles_required
from app.services import attachments
from app.services import fees as fee_service
from app.services.errors import ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from forms.fees import RollImportForm, UrgingForm

bp = Blueprint("fees", __name__)
READERS = fee_service.READER_ROLES

RATE_COLUMNS = [
    (_l("小区"), lambda r: r["community"].name),
    (_l("物业企业"), lambda r: r["community"].enterprise.name if r["community"].enterprise else ""),
    (_l("年度应收"), lambda r: r["receivable"]),
    (_l("本年已缴"), lambda r: r["received"]),
    (_l("未对应到户"), lambda r: r["unmatched"]),
    (_l("收缴率（%）"), lambda r: r["rate"]),
]
ARREARS_COLUMNS = [
    (_l("房号"), lambda r: r["household"].room),
    (_l("业主"), lambda r: r["household"].owner_name),
    (_l("应缴"), lambda r: r["fee"]),
    (_l("已缴"), lambda r: r["paid"]),
    (_l("欠缴"), lambda r: r["owed"]),
    (_l("催缴轮次"), lambda r: len(r["reminders"])),
    (_l("最近督促"), lambda r: (f"{r['last_urging'].urged_on} {fee_service.URGING_OUTCOMES[r['last_urging'].outcome]}"
                            if r["last_urging"] else "")),
]


def _year() -> int:
    this_year = now().astimezone(SHANGHAI).year
    try:
        year = int(request.values.get("year", this_year))
    except ValueError:
        return this_year
    return year if 2020 <= year <= this_year + 1 else this_year


def _community(community_id):
    try:
        return fee_service.community_for(current_user, community_id)
    except ServiceError:
        abort(404)


def _field_errors(form, error: ValidationFailed) -> None:
    for name, message in error.fields.items():
        if name in form._fields:
            form._fields[name].errors = list(form._fields[name].errors) + message.splitlines()
    flash(error.message, "danger")


@bp.route("/fees")
@roles_required(*READERS)
def index():
    year = _year()
    query = fee_service.visible_communities(current_user)
    if wants_xlsx():
        communities = fee_service.db.session.scalars(query).all()
        return xlsx_response("fee-collection", _("物业费收缴率"), RATE_COLUMNS, fee_service.rates(communities, year))
    page = db.paginate(query.order_by(None).order_by(Community.name, Community.id), per_page=30,
                                   error_out=False)  # communities by name, the page's lowest rate first
    return render_template("fees/index.html", rows=fee_service.rates(page.items, year), year=year, page=page)


def _urging_form(community, year, owing=None) -> UrgingForm:
    form = UrgingForm()
    owing = owing if owing is not None else fee_service.arrears(community, year)
    form.household_id.choices += [(r["household"].id, f'{r["household"].room} {r["household"].owner_name}')
                                  for r in owing]
    return form


def _show(community, year, import_form=None, urging_form=None, status=200):
    owing = fee_service.arrears(community, year)
    return render_template(
        "fees/show.html", community=community, year=year, c=fee_service.collection(community, year),
        arrears=owing, rounds=fee_service.reminder_rounds(community.id, year),
        urgings=fee_service.urgings(community.id, year), import_form=import_form or RollImportForm(),
        urging_form=urging_form or _urging_form(community, year, owing),
        may=lambda what: fee_service.may(current_user, what),
        methods=fee_service.URGING_METHODS, outcomes=fee_service.URGING_OUTCOMES), status


@bp.route("/fees/<int:community_id>")
@roles_required(*READERS)
def show(community_id):
    return _show(_community(community_id), _year())


@bp.route("/fees/<int:community_id>/import", methods=["POST"])
@roles_required(*fee_service.IMPORTERS)
def roll_import(community_id):
    community, year = _community(community_id), _year()
    form = RollImportForm()
    upload = form.validate_on_submit() and form.uploaded_table()
    if upload:
        try:
            job = fee_service.start_import(current_user, community.id, year, *upload,
                                           back=url_for("fees.show", community_id=community.id, year=year))
        except ValidationFailed as e:
            _field_errors(form, e)
        except ServiceError as e:
            abort(e.status)
        else:
            return redirect(url_for("reports.job", job_id=job.id))
    return _show(community, year, import_form=form, status=422)


@bp.route("/fees/<int:community_id>/arrears")
@roles_required(*READERS)
def arrears(community_id):
    community, year = _community(community_id), _year()
    if request.args.get("format") == "pdf":
        pdf = fee_service.arrears_pdf(current_user, community.id, year)
        return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=f"{community.name}{year}年欠费清单.pdf")
    rows = fee_service.arrears(community, year)
    if wants_xlsx():
        return xlsx_response("fee-arrears", _("欠费清单"), ARREARS_COLUMNS, rows)
    return render_template("fees/arrears.html", community=community, year=year, rows=rows,
                           outcomes=fee_service.URGING_OUTCOMES)


@bp.route("/fees/<int:community_id>/reminders", methods=["POST"])
@roles_required(*fee_service.REMINDERS)
def reminders(community_id):
    community, year = _community(community_id), _year()
    try:
        job = fee_service.start_reminders(current_user, community.id, year,
                                          back=url_for("fees.show", community_id=community.id, year=year))
    except ValidationFailed as e:
        flash(e.message, "danger")
    except ServiceError as e:
        abort(e.status)
    else:
        return redirect(url_for("reports.job", job_id=job.id))
    return redirect(url_for("fees.show", community_id=community.id, year=year))


@bp.route("/fees/reminders/<int:reminder_id>/letter")
@roles_required(*READERS)
def letter(reminder_id):
    try:
        reminder = fee_service.reminder_for(current_user, reminder_id)
    except ServiceError:
        abort(404)
    return send_file(attachments.path_of(reminder.attachment), mimetype="application/pdf", as_attachment=True,
                     download_name=reminder.attachment.filename)


@bp.route("/fees/<int:community_id>/urgings", methods=["POST"])
@roles_required(*fee_service.URGERS)
def urging(community_id):
    community, year = _community(community_id), _year()
    form = _urging_form(community, year)
    if form.validate_on_submit():
        try:
            fee_service.record_urging(current_user, form.household_id.data, form.data)
        except ValidationFailed as e:
            _field_errors(form, e)
        except ServiceError as e:
            abort(e.status)
        else:
            flash(_("已记录督促情况。"), "success")
            return redirect(url_for("fees.show", community_id=community.id, year=year))
    return _show(community, year, urging_form=form, status=422)
