"""The annual supervision report: generated as a long job (in-process, and by a real RQ
worker), its progress shown on the page, its PDF's Chinese text and figures checked:
collection rates, disbursements, balances, ratings and grades, year-end cuts, complaints
and the smart devices."""
import subprocess
from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from redis import Redis

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import (AuditEvent, BankInstruction, Community, Device, DeviceDailySummary, Dispute, Enterprise, LongJob,
                        RepairCase)
from app.services import attachments, escrow
from tests.dashboards.scene import bank_url, processes, scene, setup  # noqa: F401 (fixtures)
from tests.engine.test_external_worker import run_worker

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def pdf_text(job: LongJob) -> str:
    path = attachments.path_of(job.attachment)
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True, check=True).stdout
    return "".join(text.split())


def pdf_rows(job: LongJob) -> list[list[str]]:
    """The PDF's lines as laid out (a table row stays on one line), split into words."""
    path = attachments.path_of(job.attachment)
    text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in text.splitlines() if line.strip()]


def this_year() -> int:
    return now().astimezone(SHANGHAI).year


def check_ratings_cuts_complaints_and_devices(text: str, rows: list[list[str]]) -> None:
    """The report's ratings, year-end cuts, complaints and devices, each against a query of
    the test's own."""
    year = this_year()
    stars = Counter(db.session.scalars(db.select(Enterprise.star_rating)))
    assert stars == {4: 1, 2: 1}
    assert "".join(f"{n}星{stars.get(n, 0)}" for n in (5, 4, 3, 2, 1, 0)) + f"未评级{stars.get(None, 0)}" in text
    grades = Counter(db.session.scalars(db.select(Community.grade)))
    assert "".join(f"{g}级{grades.get(g, 0)}" for g in "ABCD") + f"未定级{grades.get(None, 0)}" in text

    executed = db.session.scalars(db.select(BankInstruction).where(BankInstruction.status == "success")).all()
    released = sum((i.amount for i in executed if i.kind == "year_end_release"), Decimal("0"))
    cut = sum((i.amount for i in executed if i.kind.startswith("cut_")), Decimal("0"))
    assert (released, cut) == (Decimal("46250.00"), Decimal("3750.00"))  # score 92.50 on 50 000.00
    assert f"年终拨付（元）{released:,.2f}考评扣减（元）{cut:,.2f}" in text

    received = [d for d in db.session.scalars(db.select(Dispute)) if d.received_at.astimezone(SHANGHAI).year == year]
    assert f"本年受理投诉{len(received)}件" in text
    months = Counter(d.received_at.astimezone(SHANGHAI).month for d in received)
    assert "".join(f"{m}月{months.get(m, 0)}" for m in range(1, 13)) in text
    for category, n in Counter(d.category for d in received).items():
        assert f"{category}{n}" in text, category

    cases = [c for c in db.session.scalars(db.select(RepairCase)) if c.fault_at.astimezone(SHANGHAI).year == year]
    late = sum(1 for c in cases if c.overdue)
    on_time = sum(1 for c in cases if c.status == "closed" and not c.overdue)
    assert (len(cases), on_time, late) == (3, 1, 1)
    devices = db.session.scalar(db.select(db.func.count(Device.id)).where(Device.status != "retired"))
    assert (f"全市登记智能设备{devices}台" in text and f"本年设备故障{len(cases)}起，24小时内修复{on_time}起，"
            f"超过24小时{late}起，维修中{len(cases) - on_time - late}起，按时修复率50.0%" in text)
    for community in (scene_community("世纪华庭"), scene_community("峒河湾")):
        days = [r.availability for r in db.session.scalars(db.select(DeviceDailySummary).where(
            DeviceDailySummary.community_id == community.id)) if r.availability is not None and r.day.year == year]
        average = (sum(days, Decimal("0")) / len(days)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        own = [c for c in cases if c.community_id == community.id]
        row = [community.name, str(len(community_devices(community))), f"{average}%", str(len(own)),
               str(sum(1 for c in own if c.status == "closed" and not c.overdue)), str(sum(1 for c in own if c.overdue)),
               str(sum(1 for c in own if c.status != "closed" and not c.overdue))]
        assert row in rows, row
    # By supplier: devices, faults, on time, late, open, on-time rate.
    assert ["湘西智联科技有限公司", "2", "2", "1", "1", "0", "50.0%"] in rows
    assert ["长沙安防设备有限公司", "1", "1", "0", "0", "1", "—"] in rows


def scene_community(name) -> Community:
    return db.session.scalar(db.select(Community).where(Community.name == name))


def community_devices(community) -> list[Device]:
    return db.session.scalars(db.select(Device).where(Device.community_id == community.id,
                                                      Device.status != "retired")).all()


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
    pdf = center.get(f"/jobs/{job.id}/result")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "annual-report.pdf").write_bytes(pdf.data)  # for a person to look at
    assert "20,000.00" in text  # the balance of both accounts (世纪华庭's settled at year end)
    check_ratings_cuts_complaints_and_devices(text, pdf_rows(job))
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
