"""Smart-device pages: the community device board (status, availability chart, open
repairs), device detail with its event history, the supplier's repair inbox (its own
devices only), supplier records, device registration, and build plans (proposal, the
enterprise's agreement, the bank's advance, repayments, early termination)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models import Bank, BuildPlan, Community, DeviceSupplier
from app.permissions import reads_all, roles_required
from app.services import device_events, device_plans, devices
from app.services.errors import ServiceError, ValidationFailed
from app.web.exports import wants_xlsx, xlsx_response
from forms.devices import (AdvanceForm, BuildPlanForm, DeviceForm, PlanDecisionForm, RepaymentForm,
                           TerminationDecisionForm, TerminationRequestForm)

bp = Blueprint("devices", __name__, url_prefix="/devices")

READERS = ("housing_center", "housing_bureau", "admin", "street_office", "enterprise", "device_supplier", "bank")
SUPERVISORS = ("housing_center", "housing_bureau", "admin")
PLAN_READERS = ("housing_center", "housing_bureau", "admin", "enterprise", "device_supplier", "bank")


REPAIR_COLUMNS = [
    (_l("设备"), lambda r: f"{devices.KINDS.get(r.device.kind, r.device.kind)} {r.device.serial}"),
    (_l("位置"), lambda r: r.device.location),
    (_l("小区"), lambda r: r.community.name),
    (_l("故障"), lambda r: devices.EVENT_KINDS.get(r.fault_kind, r.fault_kind)),
    (_l("故障时间"), lambda r: r.fault_at),
    (_l("维修期限"), lambda r: r.deadline_at),
    (_l("超期"), lambda r: _("是") if r.overdue else ""),
    (_l("供应商"), lambda r: r.supplier.name),
    (_l("状态"), lambda r: devices.REPAIR_STATUSES.get(r.status, r.status)),
]
DEVICE_COLUMNS = [
    (_l("设备序列号"), lambda d: d.serial),
    (_l("类型"), lambda d: devices.KINDS.get(d.kind, d.kind)),
    (_l("小区"), lambda d: d.community.name),
    (_l("位置"), lambda d: d.location),
    (_l("供应商"), lambda d: d.supplier.name),
    (_l("型号"), lambda d: d.model),
    (_l("安装日期"), lambda d: d.installed_on),
    (_l("维保期至"), lambda d: d.warranty_until),
    (_l("产权人"), lambda d: d.owner_bank.name if d.owner == "bank" and d.owner_bank else
     devices.OWNERS.get(d.owner, d.owner)),
    (_l("状态"), lambda d: devices.STATUSES.get(d.status, d.status)),
    (_l("最近上报"), lambda d: d.last_seen_at),
]
RECORD_COLUMNS = [
    (_l("记录时间"), lambda r: r.recorded_at),
    (_l("供应商"), lambda r: r.supplier.name),
    (_l("事项"), lambda r: r.title),
    (_l("说明"), lambda r: r.detail),
    (_l("分值"), lambda r: r.points),
    (_l("有效期至"), lambda r: r.valid_until),
]
PLAN_COLUMNS = [
    (_l("方案"), lambda p: p.title),
    (_l("小区"), lambda p: p.community.name),
    (_l("物业企业"), lambda p: p.enterprise.name),
    (_l("供应商"), lambda p: p.supplier.name),
    (_l("银行"), lambda p: p.bank.name),
    (_l("建设费用（元）"), lambda p: p.cost),
    (_l("状态"), lambda p: device_plans.STATUSES.get(p.status, p.status)),
]


def _labels():
    return {"kinds": devices.KINDS, "statuses": devices.STATUSES, "owners": devices.OWNERS,
            "repair_statuses": devices.REPAIR_STATUSES, "event_kinds": devices.EVENT_KINDS,
            "plan_statuses": device_plans.STATUSES}


def _field_errors(form, error: ValidationFailed) -> None:
    for name, message in error.fields.items():
        if name in form._fields:
            form._fields[name].errors = list(form._fields[name].errors) + [message]
    flash(error.message, "danger")


@bp.route("/")
@roles_required(*READERS)
def index():
    if wants_xlsx():  # the page lists communities; its export is the registry of their devices
        return xlsx_response("devices", _("设备台账"), DEVICE_COLUMNS, devices.registry(current_user))
    communities = devices.board_communities(current_user)
    unknown = device_events.unknown_serials() if current_user.has_role(*SUPERVISORS) else None
    return render_template("devices/index.html", communities=communities, unknown=unknown,
                           overview=devices.overview(current_user, communities), **_labels())


@bp.route("/community/<int:community_id>")
@roles_required(*READERS)
def board(community_id):
    community = devices.get_community_for(current_user, community_id)
    return render_template("devices/board.html", community=community, b=devices.board(current_user, community),
                           **_labels())


@bp.route("/<int:device_id>")
@roles_required(*READERS)
def show(device_id):
    device = devices.get_device_for(current_user, device_id)
    return render_template("devices/show.html", d=device, events=devices.device_events(device),
                           repairs=devices.device_repairs(device), **_labels())


@bp.route("/repairs")
@roles_required(*READERS)
def repairs():
    show_all = request.args.get("all") == "1"
    cases = devices.repair_inbox(current_user, open_only=not show_all)
    if wants_xlsx():
        return xlsx_response("repairs", _("设备维修案件"), REPAIR_COLUMNS, cases)
    return render_template("devices/repairs.html", cases=cases,
                           show_all=show_all, tasks=devices.open_repair_tasks(current_user), **_labels())


@bp.route("/records")
@roles_required("housing_center", "housing_bureau", "admin", "device_supplier")
def records():
    supplier_id = current_user.device_supplier_id if not reads_all(current_user) else None
    rows = devices.supplier_records(supplier_id)
    if wants_xlsx():
        return xlsx_response("supplier-records", _("供应商记录"), RECORD_COLUMNS, rows)
    return render_template("devices/records.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("device_supplier", "housing_center", "admin")
def new():
    form = DeviceForm()
    supervisor = current_user.has_role("housing_center", "admin")
    form.community_id.choices = [(c.id, f"{c.name}（{c.street_office.name}）") for c in db.session.scalars(
        db.select(Community).order_by(Community.name))]
    form.supplier_id.choices = [(0, "—")] + [(s.id, s.name) for s in db.session.scalars(
        db.select(DeviceSupplier).order_by(DeviceSupplier.name))] if supervisor else [(0, "—")]
    plans = db.select(BuildPlan).where(BuildPlan.status.in_(("agreed", "advanced", "repaid")))
    if not supervisor:
        plans = plans.where(BuildPlan.supplier_id == current_user.device_supplier_id)
    form.build_plan_id.choices = [(0, _("不属于建设方案（企业自有）"))] + [
        (p.id, f"{p.title}（{p.community.name}）") for p in db.session.scalars(plans)]
    if form.validate_on_submit():
        data = dict(form.data)
        data["build_plan_id"] = data.get("build_plan_id") or None
        try:
            device = devices.register_device(current_user, data)
        except ValidationFailed as e:
            db.session.rollback()
            _field_errors(form, e)
        except ServiceError as e:
            db.session.rollback()
            flash(e.message, "danger")
        else:
            flash(_("设备已登记。"), "success")
            return redirect(url_for("devices.show", device_id=device.id))
    return render_template("devices/new.html", form=form, supervisor=supervisor), \
        422 if request.method == "POST" else 200


# ---------------------------------------------------------------- build plans

@bp.route("/plans")
@roles_required(*PLAN_READERS)
def plans():
    plans = device_plans.visible_plans(current_user)
    if wants_xlsx():
        return xlsx_response("device-plans", _("智慧小区建设方案"), PLAN_COLUMNS, plans)
    return render_template("devices/plans.html", plans=plans, **_labels())


@bp.route("/plans/new", methods=["GET", "POST"])
@roles_required("device_supplier")
def new_plan():
    form = BuildPlanForm()
    form.community_id.choices = [(c.id, f"{c.name}（{c.enterprise.name}）") for c in db.session.scalars(
        db.select(Community).where(Community.enterprise_id.isnot(None)).order_by(Community.name))]
    form.bank_id.choices = [(b.id, b.name) for b in db.session.scalars(db.select(Bank).order_by(Bank.name))]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                plan = device_plans.propose(current_user, form.data)
            except ValidationFailed as e:
                db.session.rollback()
                _field_errors(form, e)
            else:
                flash(_("建设方案已提交物业企业确认。"), "success")
                return redirect(url_for("devices.plan", plan_id=plan.id))
        status = 422
    return render_template("devices/plan_new.html", form=form, **_labels()), status


def _render_plan(plan, status=200, **forms):
    view = device_plans.plan_view(current_user, plan)
    defaults = {"decision_form": PlanDecisionForm(formdata=None), "advance_form": AdvanceForm(formdata=None),
                "payment_form": RepaymentForm(formdata=None),
                "termination_form": TerminationRequestForm(formdata=None),
                "termination_decision_form": TerminationDecisionForm(formdata=None)}
    defaults.update(forms)
    return render_template("devices/plan.html", p=plan, v=view, **defaults, **_labels()), status


@bp.route("/plans/<int:plan_id>")
@roles_required(*PLAN_READERS)
def plan(plan_id):
    return _render_plan(device_plans.get_for(current_user, plan_id))


def _plan_action(plan_id, form_cls, form_name, action, done_message):
    plan = device_plans.get_for(current_user, plan_id)
    form = form_cls()
    if form.validate_on_submit():
        try:
            action(current_user, plan.id, form.data)
        except ValidationFailed as e:
            db.session.rollback()
            _field_errors(form, e)
            return _render_plan(device_plans.get_for(current_user, plan_id), 422, **{form_name: form})
        except ServiceError as e:
            db.session.rollback()
            flash(e.message, "danger")
            return _render_plan(device_plans.get_for(current_user, plan_id), e.status, **{form_name: form})
        flash(done_message, "success")
        return redirect(url_for("devices.plan", plan_id=plan.id))
    return _render_plan(plan, 422, **{form_name: form})


@bp.route("/plans/<int:plan_id>/decide", methods=["POST"])
@roles_required("enterprise")
def decide_plan(plan_id):
    return _plan_action(plan_id, PlanDecisionForm, "decision_form", device_plans.decide, _("已提交意见。"))


@bp.route("/plans/<int:plan_id>/advance", methods=["POST"])
@roles_required("bank")
def advance_plan(plan_id):
    return _plan_action(plan_id, AdvanceForm, "advance_form", device_plans.advance,
                        _("已登记垫付，还款计划已生成。"))


@bp.route("/plans/<int:plan_id>/payments", methods=["POST"])
@roles_required("bank")
def record_payment(plan_id):
    return _plan_action(plan_id, RepaymentForm, "payment_form", device_plans.record_payment, _("还款已登记。"))


@bp.route("/plans/<int:plan_id>/terminate", methods=["POST"])
@roles_required("enterprise")
def request_termination(plan_id):
    return _plan_action(plan_id, TerminationRequestForm, "termination_form", device_plans.request_termination,
                        _("终止申请已提交银行。"))


@bp.route("/plans/<int:plan_id>/termination", methods=["POST"])
@roles_required("bank")
def decide_termination(plan_id):
    return _plan_action(plan_id, TerminationDecisionForm, "termination_decision_form",
                        device_plans.decide_termination, _("已提交意见。"))
