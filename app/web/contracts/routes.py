"""Contract pages: the list (each role its own), a contract with all its rounds, opinions
and answers, round n beside round n+1, filing a signed contract, guiding signing, the
opinion and answer actions of the open review, and the model texts."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models import Attachment, Contract
from app.permissions import login_required, roles_required
from app.services import contract_templates as templates
from app.services import contracts
from app.services.documents import render_pdf
from app.services.errors import ServiceError, ValidationFailed
from app.services.tasks import may_act
from app.web.exports import wants_xlsx, xlsx_response
from forms.contracts import (AnswerForm, ContractForm, GuidanceForm, OpinionForm, ResolveForm, TemplateForm)

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

READERS = ("housing_center", "housing_bureau", "justice_bureau", "admin", "enterprise", "street_office",
           "owners_committee")
SUPERVISORS = ("housing_center", "housing_bureau", "admin")


CONTRACT_COLUMNS = [
    (_l("小区"), lambda c: c.community.name),
    (_l("物业企业"), lambda c: c.enterprise.name),
    (_l("类型"), lambda c: contracts.KINDS.get(c.kind, c.kind)),
    (_l("状态"), lambda c: contracts.STATUSES.get(c.status, c.status)),
    (_l("轮次"), lambda c: c.rounds),
    (_l("合同起始"), lambda c: c.starts_on),
    (_l("合同届满"), lambda c: c.ends_on),
    (_l("办理期限"), lambda c: c.deadline),
]


def _labels() -> dict:
    return {"kinds": contracts.KINDS, "statuses": contracts.STATUSES, "actions": contracts.ACTIONS,
            "answers": contracts.ANSWERS, "decisions": contracts.DECISIONS, "levels": contracts.LEVELS,
            "term_labels": contracts.TERM_LABELS, "checklist": templates.CHECKLIST,
            "checklist_labels": dict(templates.CHECKLIST),
            "template_statuses": templates.TEMPLATE_STATUSES, "today": contracts.today()}


def _field_errors(form, error: ValidationFailed) -> None:
    for name, message in error.fields.items():
        if name in form._fields:
            form._fields[name].errors = list(form._fields[name].errors) + [message]
    flash(error.message, "danger")


def work_context(user, contract: Contract, *, opinion_form=None, answer_forms=None, resolve_forms=None,
                 back: str = "") -> dict:
    """What the open review or revision lets this user do on the contract, with its forms."""
    review_task = contracts.open_task(contract, "review")
    submit_task = contracts.open_task(contract, "submit")
    this_round = contracts.latest_round(contract)
    work = {"contract": contract, "back": back or url_for("contracts.show", contract_id=contract.id),
            "review_task": review_task, "submit_task": submit_task, "can_review": False, "can_answer": False,
            **_labels()}
    if review_task is not None and may_act(user, review_task):
        form = opinion_form or OpinionForm(formdata=None, prefix="opinion")
        form.clause_no.choices = contracts.clause_choices(contract)
        prior = contracts.prior_opinions(contract, this_round)
        forms = resolve_forms or {}
        work.update(can_review=True, opinion_form=form, this_round=this_round, prior=prior,
                    resolve_forms={o.id: forms.get(o.id) or ResolveForm(
                        formdata=None, prefix=f"r{o.id}",
                        data={"resolved": None if o.resolved is None else ("yes" if o.resolved else "no")})
                        for o in prior})
    current = contracts.answerable_round(contract)
    if submit_task is not None and current is not None and may_act(user, submit_task):
        forms = answer_forms or {}
        work.update(can_answer=True, answer_round=current,
                    answer_forms={o.id: forms.get(o.id) or AnswerForm(
                        formdata=None, prefix=f"o{o.id}", data={"answer": o.answer, "answer_text": o.answer_text})
                        for o in current.opinions})
    return work


def task_work(task) -> dict | None:
    """For the task page of a contract case (templates/tasks/contract_review.html)."""
    contract = contracts.for_instance(task.instance_id)
    if contract is None:
        return None
    return work_context(current_user, contract, back=url_for("inbox.task", task_id=task.id))


@bp.record_once
def _register_globals(state):
    state.app.jinja_env.globals.update(contract_task_work=task_work,
                                       expiring_contracts=lambda: contracts.expiring(current_user))


def _back(contract_id: int):
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("contracts.show", contract_id=contract_id))


# ---------------------------------------------------------------- lists and pages

@bp.route("/")
@roles_required(*READERS)
def index():
    query = contracts.visible(current_user, db.select(Contract).order_by(Contract.id.desc()))
    status, kind = request.args.get("status"), request.args.get("kind")
    if status:
        query = query.where(Contract.status == status)
    if kind:
        query = query.where(Contract.kind == kind)
    if wants_xlsx():
        return xlsx_response("contracts", _("合同备案"), CONTRACT_COLUMNS, db.session.scalars(query))
    page = db.paginate(query, per_page=30, error_out=False)
    counts = dict(db.session.execute(contracts.visible(current_user, db.select(Contract.status, db.func.count())
                                                       .select_from(Contract).group_by(Contract.status))).all())
    return render_template("contracts/index.html", page=page, status=status, kind=kind, counts=counts,
                           expiring=contracts.expiring(current_user),
                           unsigned=contracts.communities_without_contract() if current_user.has_role(*SUPERVISORS)
                           else [], **_labels())


@bp.route("/<int:contract_id>")
@roles_required(*READERS)
def show(contract_id):
    contract = contracts.get_for(current_user, contract_id)
    return _render_show(contract)


def _render_show(contract, status=200, **forms):
    documents = db.session.scalars(db.select(Attachment).where(Attachment.instance_id == contract.instance_id)
                                   .order_by(Attachment.id)).all() if contract.instance_id else []
    task = contracts.open_task(contract)
    return render_template("contracts/show.html", c=contract, documents=documents, open_task=task,
                           can_act=task is not None and may_act(current_user, task),
                           work=work_context(current_user, contract, **forms), **_labels()), status


@bp.route("/<int:contract_id>/compare/<int:number>")
@roles_required(*READERS)
def compare(contract_id, number):
    contract = contracts.get_for(current_user, contract_id)
    return render_template("contracts/compare.html", c=contract, cmp=contracts.compare(contract, number), **_labels())


@bp.route("/new", methods=["GET", "POST"])
@roles_required("enterprise", "housing_center", "admin")
def new():
    form = ContractForm()
    form.community_id.choices = [(c.id, f"{c.name}（{c.street_office.name}）")
                                 for c in contracts.communities_for(current_user)]
    if request.method == "GET" and current_user.has_role("housing_center", "admin"):
        form.kind.data = "preliminary"
    status = 200
    if form.validate_on_submit():
        try:
            contract = contracts.submit_contract(current_user, form.data, form.contract_pdf.data)
        except ValidationFailed as e:
            db.session.rollback()
            _field_errors(form, e)
        except ServiceError as e:
            db.session.rollback()
            flash(e.message, "danger")
            status = e.status
        else:
            flash(_("合同已报送备案，等待住保中心审查。"), "success")
            return redirect(url_for("contracts.show", contract_id=contract.id))
    elif request.method == "POST":
        flash(_("表单填写有误，请按提示修改。"), "danger")
    return render_template("contracts/new.html", form=form), 422 if form.errors else status


@bp.route("/guide", methods=["GET", "POST"])
@roles_required("housing_center", "admin")
def guide():
    form = GuidanceForm()
    unsigned = contracts.communities_without_contract()
    form.community_id.choices = [(c.id, f"{c.name}（{c.enterprise.name}）") for c in unsigned]
    if request.method == "GET" and request.args.get("community_id", type=int):
        form.community_id.data = request.args.get("community_id", type=int)
    status = 200
    if form.validate_on_submit():
        try:
            contract = contracts.start_guidance(current_user, form.community_id.data, form.kind.data, form.days.data,
                                                form.finding.data)
        except ValidationFailed as e:
            db.session.rollback()
            _field_errors(form, e)
        except ServiceError as e:
            db.session.rollback()
            flash(e.message, "danger")
            status = e.status
        else:
            flash(_("已发出签订指导通知书。"), "success")
            return redirect(url_for("contracts.show", contract_id=contract.id))
    return render_template("contracts/guide.html", form=form, unsigned=unsigned), 422 if form.errors else status


# ---------------------------------------------------------------- opinions and answers

@bp.route("/<int:contract_id>/opinions", methods=["POST"])
@roles_required("housing_center")
def add_opinion(contract_id):
    contract = contracts.get_for(current_user, contract_id)
    form = OpinionForm(prefix="opinion")
    form.clause_no.choices = contracts.clause_choices(contract)
    if form.validate_on_submit():
        try:
            contracts.add_opinion(current_user, contract.id, {name: f.data for name, f in form._fields.items()})
        except ValidationFailed as e:
            db.session.rollback()
            _field_errors(form, e)
        else:
            flash(_("删改意见已添加。"), "success")
            return _back(contract.id)
    return _render_show(contract, 422, opinion_form=form)


@bp.route("/<int:contract_id>/opinions/<int:opinion_id>/delete", methods=["POST"])
@roles_required("housing_center")
def delete_opinion(contract_id, opinion_id):
    contracts.delete_opinion(current_user, contract_id, opinion_id)
    flash(_("删改意见已撤回。"), "success")
    return _back(contract_id)


@bp.route("/<int:contract_id>/opinions/<int:opinion_id>/resolve", methods=["POST"])
@roles_required("housing_center")
def resolve_opinion(contract_id, opinion_id):
    contract = contracts.get_for(current_user, contract_id)
    form = ResolveForm(prefix=f"r{opinion_id}")
    if form.validate_on_submit():
        contracts.resolve_opinion(current_user, contract.id, opinion_id, form.resolved.data == "yes")
        flash(_("已记录落实情况。"), "success")
        return _back(contract.id)
    return _render_show(contract, 422, resolve_forms={opinion_id: form})


@bp.route("/<int:contract_id>/opinions/<int:opinion_id>/answer", methods=["POST"])
@roles_required("enterprise")
def answer_opinion(contract_id, opinion_id):
    contract = contracts.get_for(current_user, contract_id)
    form = AnswerForm(prefix=f"o{opinion_id}")
    if form.validate_on_submit():
        try:
            contracts.answer_opinion(current_user, contract.id, opinion_id, form.answer.data, form.answer_text.data)
        except ValidationFailed as e:
            db.session.rollback()
            _field_errors(form, e)
        else:
            flash(_("答复已保存。"), "success")
            return _back(contract.id)
    return _render_show(contract, 422, answer_forms={opinion_id: form})


# ---------------------------------------------------------------- model texts

@bp.route("/templates")
@login_required
def template_list():
    return render_template("contracts/templates.html", versions=templates.all_versions(),
                           current={k: templates.current(k) for k in templates.KINDS}, **_labels())


@bp.route("/templates/<int:template_id>")
@login_required
def template_show(template_id):
    template = templates.get(template_id)
    return render_template("contracts/template.html", t=template, missing=templates.missing_items(template),
                           **_labels())


@bp.route("/templates/<int:template_id>.pdf")
@login_required
def template_pdf(template_id):
    template = templates.get(template_id)
    data = render_pdf("documents/contract_template.html", model=template)
    name = f"{template.title}（第{template.version}版）.pdf"
    from urllib.parse import quote
    return data, 200, {"Content-Type": "application/pdf",
                       "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}


def _clauses(form) -> list[dict]:
    return [{"heading": entry.form.heading.data, "text": entry.form.text.data,
             "checklist_item": entry.form.checklist_item.data} for entry in form.clauses]


@bp.route("/templates/new", methods=["GET", "POST"])
@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@roles_required("housing_center", "admin")
def template_edit(template_id=None):
    draft = templates.get(template_id) if template_id else None
    if draft is not None and draft.status != "draft":
        flash(_("已发布的示范文本不能修改，请起草新版本。"), "warning")
        return redirect(url_for("contracts.template_show", template_id=draft.id))
    if request.method == "GET":
        kind = draft.kind if draft else request.args.get("kind", "regular")
        source = draft or templates.current(kind)
        data = {"kind": kind, "title": source.title if source else "", "note": draft.note if draft else "",
                "clauses": [{"heading": c.heading, "text": c.text, "checklist_item": c.checklist_item or ""}
                            for c in source.clauses] if source else []}
        form = TemplateForm(formdata=None, data=data)
    else:
        form = TemplateForm()
        if request.form.get("add_clause"):
            form.clauses.append_entry()
            return render_template("contracts/template_edit.html", form=form, draft=draft, **_labels())
    if request.method == "POST" and form.validate():
        try:
            saved = templates.save_draft(current_user, form.kind.data, form.title.data, form.note.data,
                                         _clauses(form), template_id=draft.id if draft else None)
        except ValidationFailed as e:
            db.session.rollback()
            for name, message in e.fields.items():
                if name.startswith("clauses-"):
                    form.clauses.entries[int(name.split("-")[1])].form.heading.errors = [message]
                elif name in form._fields:
                    form._fields[name].errors = list(form._fields[name].errors) + [message]
            flash(e.message, "danger")
        else:
            flash(_("示范文本草稿已保存，待司法局会签后发布。"), "success")
            return redirect(url_for("contracts.template_show", template_id=saved.id))
    status = 422 if request.method == "POST" else 200
    return render_template("contracts/template_edit.html", form=form, draft=draft, **_labels()), status


@bp.route("/templates/<int:template_id>/publish", methods=["POST"])
@roles_required("justice_bureau")
def template_publish(template_id):
    try:
        template = templates.publish(current_user, template_id)
    except ValidationFailed as e:
        flash(e.message, "danger")
        return redirect(url_for("contracts.template_show", template_id=template_id))
    flash(_("示范文本已会签发布（第 %(v)d 版）。", v=template.version), "success")
    return redirect(url_for("contracts.template_show", template_id=template.id))
