"""Process modeler pages (process_manager, admin): the model list, a model's versions, the
bpmn-js editor with its JSON draft endpoints (load, autosave, validate), deploy with a
change note, retire, version diff, import/export, DMN decision tables, migration of
running instances and sandbox test runs."""
import io

from flask import Blueprint, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.permissions import roles_required
from app.services import modeler
from app.services.errors import ServiceError, ValidationFailed
from forms.modeler import (DeployForm, ImportForm, MigrationForm, NewDecisionForm, NewModelForm, TrialStartForm,
                          TrialStepForm)

bp = Blueprint("modeler", __name__, url_prefix="/modeler")

EDITORS = modeler.EDITOR_ROLES


def _json_error(e: ServiceError):
    return jsonify(error=e.code, message=e.message, fields=e.fields), e.status


def _field_errors(form, e: ValidationFailed) -> None:
    for name, message in e.fields.items():
        target = form._fields.get(name) or form._fields.get("file") or form._fields.get("note")
        if target is not None:
            target.errors = list(target.errors) + [message]


@bp.route("/")
@roles_required(*EDITORS)
def index():
    return render_template("modeler/index.html", rows=modeler.overview())


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new():
    form = NewModelForm()
    if form.validate_on_submit():
        try:
            modeler.create_model(form.key.data, form.name.data, current_user)
        except ValidationFailed as e:
            _field_errors(form, e)
        else:
            flash(_("流程模型已建立，请编辑草稿。"), "success")
            return redirect(url_for("modeler.edit", key=form.key.data))
    return render_template("modeler/new.html", form=form)


@bp.route("/<key>")
@roles_required(*EDITORS)
def show(key):
    model = modeler.get_model(key)
    draft = modeler.draft_of(model)
    return render_template("modeler/show.html", model=model, draft=draft, counts=modeler.running_counts(model),
                           import_form=ImportForm(), decision_form=NewDecisionForm())


# ---------------------------------------------------------------- the editor and its draft

@bp.route("/<key>/edit")
@roles_required(*EDITORS)
def edit(key):
    draft = modeler.open_draft(key, current_user)
    return render_template("modeler/edit.html", model=draft.model, draft=draft)


@bp.route("/<key>/vocabulary.json")
@roles_required(*EDITORS)
def vocabulary(key):
    return jsonify(modeler.vocabulary())


@bp.route("/<key>/draft.json")
@roles_required(*EDITORS)
def draft_json(key):
    try:
        draft = modeler.open_draft(key, current_user)
    except ServiceError as e:
        return _json_error(e)
    # The CSRF token of the current session: after an expired login the editor page still
    # holds the old session's token, and draftsync.js takes the new one from here.
    return jsonify({**modeler.draft_state(draft), "csrf_token": generate_csrf()})


@bp.route("/<key>/draft", methods=["POST"])
@roles_required(*EDITORS)
def save(key):
    body = request.get_json(silent=True) or {}
    try:
        draft = modeler.save_draft(key, current_user, body.get("lock_version"), bpmn_xml=body.get("xml"),
                                   dmn_files=body.get("dmn") or None, removed_dmn=body.get("removed_dmn") or None)
    except ServiceError as e:
        return _json_error(e)
    return jsonify(modeler.draft_state(draft, with_sources=False))


@bp.route("/<key>/validate", methods=["POST"])
@roles_required(*EDITORS)
def validate(key):
    try:
        problems = modeler.validate_draft(key, current_user)
    except ServiceError as e:
        return _json_error(e)
    return jsonify(problems=problems)


@bp.route("/<key>/discard", methods=["POST"])
@roles_required(*EDITORS)
def discard(key):
    modeler.discard_draft(key, current_user)
    flash(_("草稿已丢弃。"), "success")
    return redirect(url_for("modeler.show", key=key))


@bp.route("/<key>/deploy", methods=["GET", "POST"])
@roles_required(*EDITORS)
def deploy(key):
    draft = modeler.open_draft(key, current_user)
    form = DeployForm()
    if request.method == "GET":
        form.lock_version.data = draft.lock_version
    status = 200
    if form.validate_on_submit():
        try:
            version, created = modeler.deploy_draft(key, current_user, form.note.data, form.lock_version.data)
        except ValidationFailed as e:
            _field_errors(form, e)
            flash(e.message, "danger")
            status = 422
        except ServiceError as e:
            flash(e.message, "danger")
            status = e.status
        else:
            if created:
                flash(_("已部署为第 %(n)d 版。运行中的案件仍按原版本办理。", n=version.number), "success")
            else:
                flash(_("草稿与第 %(n)d 版相同，没有产生新版本。", n=version.number), "info")
            return redirect(url_for("modeler.show", key=key))
    elif request.method == "POST":
        status = 422
    draft = modeler.open_draft(key, current_user)
    return render_template("modeler/deploy.html", model=draft.model, draft=draft, form=form,
                           problems=modeler.validate_draft(key, current_user), changes=modeler.draft_changes(key)), status


@bp.route("/<key>/versions/<int:number>/retire", methods=["POST"])
@roles_required(*EDITORS)
def retire(key, number):
    try:
        modeler.retire_version(key, number, current_user)
        flash(_("第 %(n)d 版已停用：不再发起新案件，运行中的案件继续办理。", n=number), "success")
    except ServiceError as e:
        flash(e.message, "danger")
    return redirect(url_for("modeler.show", key=key))


@bp.route("/<key>/versions/<int:number>/reactivate", methods=["POST"])
@roles_required(*EDITORS)
def reactivate(key, number):
    try:
        modeler.reactivate_version(key, number, current_user)
        flash(_("第 %(n)d 版已恢复使用。", n=number), "success")
    except ServiceError as e:
        flash(e.message, "danger")
    return redirect(url_for("modeler.show", key=key))


# ---------------------------------------------------------------- differences

def _diff_args(key):
    model = modeler.get_model(key)
    numbers = [v.number for v in model.versions]
    old = request.args.get("from", type=int) or (numbers[-2] if len(numbers) > 1 else (numbers[-1] if numbers else 0))
    to = request.args.get("to", default="")
    new = None if to in ("", "draft") else int(to) if to.isdigit() else -1
    return model, old, new


@bp.route("/<key>/diff")
@roles_required(*EDITORS)
def diff(key):
    model, old, new = _diff_args(key)
    result = modeler.version_diff(key, old, new)
    return render_template("modeler/diff.html", model=model, old=old, new=new, d=result)


@bp.route("/<key>/diff.json")
@roles_required(*EDITORS)
def diff_json(key):
    _model, old, new = _diff_args(key)
    d = modeler.version_diff(key, old, new)
    side = request.args.get("side", "new")
    if side == "old":
        return jsonify(xml=d["old_xml"], states={"removed": [e["id"] for e in d["removed"]],
                                                 "changed": [e["id"] for e in d["changed"]]})
    return jsonify(xml=d["new_xml"], states={"added": [e["id"] for e in d["added"]],
                                             "changed": [e["id"] for e in d["changed"]]})


# ---------------------------------------------------------------- import and export

@bp.route("/<key>/export")
@roles_required(*EDITORS)
def export(key):
    number = request.args.get("version", type=int)
    filename, text = modeler.export_source(key, number, request.args.get("dmn") or None)
    return send_file(io.BytesIO(text.encode("utf-8")), as_attachment=True, download_name=filename,
                     mimetype="application/xml")


@bp.route("/<key>/import", methods=["POST"])
@roles_required(*EDITORS)
def import_file(key):
    model = modeler.get_model(key)
    form = ImportForm()
    upload = form.file.data if form.validate_on_submit() else None
    if upload is not None and getattr(upload, "filename", ""):
        try:
            modeler.import_file(key, upload.filename, upload.read(modeler.max_bytes() + 1), current_user)
        except ValidationFailed as e:
            form.file.errors = list(form.file.errors) + [e.fields.get("file", e.message)]
        except ServiceError as e:
            form.file.errors = list(form.file.errors) + [e.message]
        else:
            flash(_("已导入 %(name)s 到草稿。", name=upload.filename), "success")
            return redirect(url_for("modeler.edit", key=key))
    elif not form.file.errors:
        form.file.errors = list(form.file.errors) + [_("请选择文件。")]
    return render_template("modeler/show.html", model=model, draft=modeler.draft_of(model),
                           counts=modeler.running_counts(model), import_form=form,
                           decision_form=NewDecisionForm()), 422


# ---------------------------------------------------------------- DMN decision tables

@bp.route("/<key>/decisions", methods=["POST"])
@roles_required(*EDITORS)
def new_decision(key):
    model = modeler.get_model(key)
    form = NewDecisionForm()
    if form.validate_on_submit():
        try:
            modeler.create_decision(key, form.filename.data, form.decision_id.data, form.name.data, current_user)
        except ValidationFailed as e:
            _field_errors(form, e)
        else:
            return redirect(url_for("modeler.edit_decision", key=key, filename=form.filename.data))
    return render_template("modeler/show.html", model=model, draft=modeler.draft_of(model),
                           counts=modeler.running_counts(model), import_form=ImportForm(), decision_form=form), 422


@bp.route("/<key>/decisions/<filename>/edit")
@roles_required(*EDITORS)
def edit_decision(key, filename):
    draft = modeler.open_draft(key, current_user)
    if filename not in (draft.dmn_files or {}):
        from flask import abort
        abort(404)
    return render_template("modeler/decision.html", model=draft.model, draft=draft, filename=filename)


# ---------------------------------------------------------------- migration of running instances

@bp.route("/<key>/versions/<int:number>/migrate", methods=["GET", "POST"])
@roles_required(*EDITORS)
def migrate(key, number):
    try:
        source, target, rows = modeler.migration_preview(key, number, current_user)
    except ServiceError as e:
        flash(e.message, "danger")
        return redirect(url_for("modeler.show", key=key))
    form = MigrationForm()
    form.instance_ids.choices = [(r["instance"].id, r["instance"].title) for r in rows if r["movable"]]
    if form.validate_on_submit():
        moved, refused = modeler.migrate_instances(key, number, form.instance_ids.data, current_user)
        if moved:
            flash(_("已将 %(n)d 件案件迁移到第 %(v)d 版。", n=len(moved), v=target.number), "success")
        for instance_id, reason in refused:
            flash(_("案件 %(id)d 未迁移：%(reason)s", id=instance_id, reason=reason), "danger")
        return redirect(url_for("modeler.migrate", key=key, number=number) if refused else url_for("modeler.show", key=key))
    return render_template("modeler/migrate.html", model=source.model, source=source, target=target, rows=rows,
                           form=form), 422 if request.method == "POST" else 200


# ---------------------------------------------------------------- sandbox test runs

@bp.route("/<key>/trials", methods=["GET", "POST"])
@roles_required(*EDITORS)
def trial_new(key):
    draft = modeler.open_draft(key, current_user)
    form = TrialStartForm()
    if form.validate_on_submit():
        try:
            row = modeler.start_trial(key, current_user, form.payload.parsed)
        except ValidationFailed as e:
            form.payload.errors = list(form.payload.errors) + [e.message]
        else:
            return redirect(url_for("modeler.trial_show", key=key, trial_id=row.id))
    return render_template("modeler/trial_new.html", model=draft.model, form=form), \
        422 if request.method == "POST" else 200


@bp.route("/<key>/trials/<int:trial_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def trial_show(key, trial_id):
    row = modeler.get_trial(key, trial_id, current_user)
    form = TrialStepForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                modeler.trial_step(key, trial_id, current_user, form.action.data, form.target.data, form.payload.parsed)
            except ServiceError as e:
                flash(e.message, "danger")
                status = e.status
            else:
                return redirect(url_for("modeler.trial_show", key=key, trial_id=trial_id))
        else:
            status = 422
            for errors in form.errors.values():
                for message in errors:
                    flash(message, "danger")
        row = modeler.get_trial(key, trial_id, current_user)
    return render_template("modeler/trial.html", model=row.model, trial=row, view=modeler.trial_view(row),
                           form=form), status


@bp.route("/<key>/trials/<int:trial_id>/diagram.json")
@roles_required(*EDITORS)
def trial_diagram(key, trial_id):
    row = modeler.get_trial(key, trial_id, current_user)
    draft = modeler.open_draft(key, current_user)
    view = modeler.trial_view(row)
    return jsonify(xml=draft.bpmn_xml, states={"completed": view["done"], "active": view["active"],
                                               "waiting": view["waiting_specs"]})
