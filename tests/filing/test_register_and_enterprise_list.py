"""The market-regulation register import (CSV and Excel, run as a long job with progress),
the enterprise list's filters and Excel export, each scoped to what the user may see."""
import io

from openpyxl import Workbook, load_workbook

from app.extensions import db
from app.models import Enterprise, LongJob
from app.services.demo import demo_uscc

HEADER = "企业名称,统一社会信用代码,住所,联系人,联系电话\n"


def upload(client, content: bytes, name: str):
    return client.post("/filing/import", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Enterprise))


def test_register_import_refuses_a_bad_file_whole_and_skips_known_enterprises(login_as, factory):
    known = factory.enterprise(name="已登记物业")
    center = login_as("housing_center")
    bad = HEADER + f"甲物业,{demo_uscc(801)},吉首市,张三,13800000000\n乙物业,91433101MA4L0000X0,吉首市,,\n,{demo_uscc(803)},,,\n"
    response = upload(center, bad.encode("utf-8"), "register.csv")
    job = db.session.scalar(db.select(LongJob))
    assert response.headers["Location"].endswith(f"/jobs/{job.id}") and job.kind == "filing_register_import"
    page = center.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-status="rejected"' in page and "名册有误，未导入任何企业。" in page
    assert job.error.splitlines() == ["第 3 行：统一社会信用代码“91433101MA4L0000X0”无效。", "第 4 行：缺少企业名称。"]
    assert count() == 1
    assert "首行须包含" in upload(center, b"a,b\n1,2\n", "register.csv").get_data(as_text=True)
    assert "只接受 CSV 或 Excel" in upload(center, b"x", "register.txt").get_data(as_text=True)

    good = HEADER + f"甲物业,{demo_uscc(801)},吉首市,张三,13800000000\n已登记物业,{known.uscc},,,\n"
    response = upload(center, good.encode("gb18030"), "register.csv")  # GBK from Excel on Windows
    assert response.status_code == 302
    assert count() == 2
    job = db.session.scalar(db.select(LongJob).order_by(LongJob.id.desc()))
    page = center.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-status="done"' in page and "已导入 1 家未登记企业，跳过已登记的 1 家。" in page
    assert 'href="/enterprises?filing=unfiled"' in page
    added = db.session.scalar(db.select(Enterprise).where(Enterprise.uscc == demo_uscc(801)))
    assert added.name == "甲物业" and added.filing_status == "unfiled"

    wb = Workbook()
    wb.active.append(["企业名称", "统一社会信用代码", "住所"])
    wb.active.append(["丙物业", demo_uscc(802), "吉首市乾州街道"])
    wb.active.append(["甲物业", demo_uscc(801), ""])
    buffer = io.BytesIO()
    wb.save(buffer)
    assert upload(center, buffer.getvalue(), "register.xlsx").status_code == 302
    assert count() == 3
    assert upload(login_as("enterprise"), good.encode(), "register.csv").status_code == 403


def test_enterprise_list_filters_and_exports_only_what_the_user_sees(login_as, factory):
    filed = factory.enterprise(name="已备案物业")
    filed.filing_status = "filed"
    unfiled = factory.enterprise(name="未备案物业")
    db.session.commit()
    center = login_as("housing_center")
    page = center.get("/enterprises?filing=unfiled").get_data(as_text=True)
    assert "未备案物业" in page and "已备案物业" not in page

    export = center.get("/enterprises?filing=filed&format=xlsx")
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("企业名称", "统一社会信用代码", "备案状态")
    assert [r[0] for r in rows[1:]] == ["已备案物业"] and rows[1][2] == "已备案"

    own = login_as("enterprise", org=unfiled)
    rows = list(load_workbook(io.BytesIO(own.get("/enterprises?format=xlsx").data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["未备案物业"]
    assert own.get(f"/enterprises/{filed.id}").status_code == 404


def test_a_large_register_is_imported_by_a_worker_while_the_page_polls(app, login_as, redis_url, database_url,
                                                                      tmp_path):
    from redis import Redis

    from tests.engine.test_external_worker import run_worker
    Redis.from_url(redis_url).flushdb()
    app.config["REDIS_URL"] = redis_url
    try:
        center = login_as("housing_center")
        rows = "".join(f"物业公司{n},{demo_uscc(2000 + n)},吉首市,,\n" for n in range(1200))
        assert upload(center, (HEADER + rows).encode(), "register.csv").status_code == 302
        job = db.session.scalar(db.select(LongJob))
        waiting = center.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
        assert 'data-status="queued"' in waiting and 'hx-trigger="every 1s"' in waiting and count() == 0
        run_worker(database_url, redis_url, "http://127.0.0.1:9", tmp_path)
        done = center.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
        assert 'data-status="done"' in done and "已导入 1200 家未登记企业" in done and "hx-trigger" not in done
        assert count() == 1200
    finally:
        app.config["REDIS_URL"] = None
        Redis.from_url(redis_url).flushdb()


def test_enterprise_list_risk_and_supervision_filters_and_their_exports(login_as, factory):
    from tests.html_tables import table_rows
    for name, risk, supervised in (("甲物业", "listed", True), ("乙物业", "none", True), ("丙物业", "listed", False),
                                   ("丁物业", "proposed", False)):
        enterprise = factory.enterprise(name=name)
        enterprise.risk_status, enterprise.under_supervision = risk, supervised
    db.session.commit()
    center = login_as("housing_center")
    for query, expected in (("risk=listed", {"甲物业", "丙物业"}), ("risk=proposed", {"丁物业"}),
                            ("supervised=yes", {"甲物业", "乙物业"}), ("supervised=no", {"丙物业", "丁物业"}),
                            ("risk=listed&supervised=no", {"丙物业"}), ("risk=none&supervised=no", set())):
        shown = [r for r in table_rows(center.get(f"/enterprises?{query}").get_data(as_text=True), "enterprises")[1:]
                 if r != ["没有记录。"]]
        assert {r[0] for r in shown} == expected, query
        rows = list(load_workbook(io.BytesIO(center.get(f"/enterprises?{query}&format=xlsx").data))
                    .active.iter_rows(values_only=True))
        assert rows[0][3:5] == ("资金监管", "风险状态")
        assert sorted(r[0] for r in rows[1:]) == sorted(r[0] for r in shown), query
        assert [(r[3], r[4]) for r in sorted(rows[1:])] == [(r[3], r[4]) for r in sorted(shown)], query
