"""The annual supervision report: generated as a long job (in-process, and by a real RQ
worker), its progress shown on the page, its PDF's Chinese text and figures checked."""
import subprocess
from datetime import timedelta
from pathlib import Path

from redis import Redis

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import AuditEvent, LongJob
from app.services import attachments, escrow
from tests.dashboards.scene import bank_url, processes, scene, setup  # noqa: F401 (fixtures)
from tests.engine.test_external_worker import run_worker

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def pdf_text(job: LongJob) -> str:
    path = attachments.path_of(job.attachment)
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True, check=True).stdout
    return "".join(text.split())


def this_year() -> int:
    return now().astimezone(SHANGHAI).year


def test_the_center_generates_the_annual_report_and_reads_its_figures(scene, login_as):
    center = login_as("housing_center")
    assert 'data-testid="annual-report-link"' in center.get("/").get_data(as_text=True)
    response = center.post("/reports", data={"year": this_year()})
    assert response.status_code == 302
    job = db.session.scalar(db.select(LongJob))
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")

    page = center.get(f"/jobs/{job.id}").get_data(as_text=True)  # in-process: already done
    assert 'data-status="done"' in page and "100%" in page and "hx-trigger" not in page
    assert job.status == "done" and job.attempts == 1
    text = pdf_text(job)
    assert f"吉首市物业服务企业监管{this_year()}年度报告" in text
    assert "世纪华庭" in text and "峒河湾" in text and "18.0%" in text and "10.0%" in text
    year, quarter = escrow.current_quarter()
    if year == this_year():
        assert "130,000.00" in text  # the quarter's disbursement
    assert "70,000.00" in text  # the balance of both accounts
    pdf = center.get(f"/jobs/{job.id}/result")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "annual-report.pdf").write_bytes(pdf.data)  # for a person to look at
    listed = center.get("/reports").get_data(as_text=True)
    assert job.title in listed
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "long_job.started")) is not None


def test_bad_years_and_other_roles_are_refused(scene, login_as):
    center = login_as("housing_center")
    for year, message in (("", "请填写年度。"), ("1999", "年度须在 2020 至 2100 之间。"),
                          (str(this_year() + 1), "不能生成未来年度的报告。")):
        page = center.post("/reports", data={"year": year}).get_data(as_text=True)
        assert message in page
    assert db.session.scalar(db.select(db.func.count(LongJob.id))) == 0

    center.post("/reports", data={"year": this_year()})
    job = db.session.scalar(db.select(LongJob))
    enterprise = login_as("enterprise", org=scene["enterprise"])
    assert enterprise.get("/reports").status_code == 403
    assert enterprise.post("/reports", data={"year": this_year()}).status_code == 403
    for path in (f"/jobs/{job.id}", f"/jobs/{job.id}/progress", f"/jobs/{job.id}/result"):
        assert enterprise.get(path).status_code == 404, path
    assert login_as("street_office").get("/reports").status_code == 403


def test_a_real_worker_runs_the_report_while_the_page_polls(scene, login_as, app, redis_url, database_url,
                                                           tmp_path, bank_url):
    Redis.from_url(redis_url).flushdb()
    app.config["REDIS_URL"] = redis_url
    try:
        center = login_as("housing_center")
        center.post("/reports", data={"year": this_year()})
        job = db.session.scalar(db.select(LongJob))
        waiting = center.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
        assert 'data-status="queued"' in waiting and 'hx-trigger="every 1s"' in waiting  # the page keeps polling
        run_worker(database_url, redis_url, bank_url, tmp_path)
        done = center.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
        assert 'data-status="done"' in done and "hx-trigger" not in done
        db.session.expire_all()
        assert "世纪华庭" in pdf_text(db.session.get(LongJob, job.id))
    finally:
        app.config["REDIS_URL"] = None
        Redis.from_url(redis_url).flushdb()


def test_a_job_whose_worker_died_is_shown_stalled_and_can_be_started_again(scene, login_as):
    center = login_as("housing_center")
    center.post("/reports", data={"year": this_year()})
    job = db.session.scalar(db.select(LongJob))
    assert center.post(f"/jobs/{job.id}/restart").status_code == 302  # done: refused, nothing changes
    db.session.expire_all()
    assert job.status == "done" and job.attempts == 1

    job.status, job.progress, job.attachment_id = "running", 35, None  # as a worker killed mid-job leaves it
    job.updated_at = now() - timedelta(minutes=30)
    db.session.commit()
    page = center.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-testid="job-stalled"' in page and "hx-trigger" not in page
    center.post(f"/jobs/{job.id}/restart")
    db.session.expire_all()
    assert job.status == "done" and job.attempts == 2 and job.attachment_id is not None
