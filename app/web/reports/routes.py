"""Reports (the annual supervision report) and the progress page of any long job."""
from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.engine.calendar import SHANGHAI, now
from app.permissions import login_required, roles_required
from app.services import attachments, long_jobs
from app.services.errors import ServiceError
from forms.reports import AnnualReportForm

bp = Blueprint("reports", __name__)
REPORTERS = ("housing_center", "housing_bureau", "admin")


@bp.route("/reports", methods=["GET", "POST"])
@roles_required(*REPORTERS)
def index():
    form = AnnualReportForm()
    if form.validate_on_submit():
        year = form.year.data
        job = long_jobs.start("annual_report", _("%(year)d年度物业服务监管报告", year=year), current_user, year=year)
        return redirect(url_for("reports.job", job_id=job.id))
    if not form.is_submitted():
        form.year.data = now().astimezone(SHANGHAI).year
    return render_template("reports/index.html", form=form, jobs=long_jobs.recent(current_user, "annual_report"))


@bp.route("/jobs/<int:job_id>")
@login_required
def job(job_id):
    return render_template("reports/job.html", job=long_jobs.get_for(current_user, job_id),
                           stalled=long_jobs.stalled)


@bp.route("/jobs/<int:job_id>/progress")
@login_required
def job_progress(job_id):
    """htmx: the progress block, polled every second until the job is finished."""
    return render_template("reports/_progress.html", job=long_jobs.get_for(current_user, job_id),
                           stalled=long_jobs.stalled)


@bp.route("/jobs/<int:job_id>/restart", methods=["POST"])
@login_required
def job_restart(job_id):
    try:
        long_jobs.restart(current_user, job_id)
    except ServiceError as e:
        if e.status in (403, 404):
            raise  # not the user's job: refused like any page, not as a message
        flash(e.message, "danger")
    return redirect(url_for("reports.job", job_id=job_id))


@bp.route("/jobs/<int:job_id>/result")
@login_required
def job_result(job_id):
    job = long_jobs.get_for(current_user, job_id)
    if job.attachment is None:
        abort(404)
    return send_file(attachments.path_of(job.attachment), mimetype=job.attachment.content_type, as_attachment=True,
                     download_name=job.attachment.filename)
