"""The scoring standard as data: the default standard seeded per year, items added and
deleted by the housing center only, Excel export and import (a bad file changes nothing),
and the standard locked once its year's evaluation opens."""
import io
from datetime import datetime

from openpyxl import Workbook, load_workbook

from app.engine import calendar
from app.extensions import db
from app.models import ScoringItem, ScoringStandard
from app.services import scoring
from tests.evaluation.conftest import DUE, YEAR


def items_of(standard_id):
    return list(db.session.scalars(db.select(ScoringItem).where(ScoringItem.standard_id == standard_id)
                                   .order_by(ScoringItem.position)))


def xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(scoring.COLUMNS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_default_standard_has_five_departments_bonus_items_and_100_base_points(app, world):
    standard = world["standard"]
    assert scoring.departments(standard) == ["housing_center", "natural_resources", "fire_brigade",
                                             "market_regulation", "street_office"]
    assert sum(i.max_points for i in standard.items if not i.is_bonus) == 100
    assert [i.code for i in standard.items if i.is_bonus] == ["E1", "E2"]
    scoring.check_complete(standard)


def test_center_creates_copies_and_edits_a_standard_others_may_only_read(app, world, login_as):
    center = login_as("housing_center")
    response = center.post("/evaluation/standards", data={"year": YEAR + 1, "copy_from": YEAR}, follow_redirects=True)
    assert "评分标准已创建" in response.get_data(as_text=True)
    copy = scoring.for_year(YEAR + 1)
    assert [i.code for i in copy.items] == [i.code for i in world["standard"].items]

    bad = center.post(f"/evaluation/standards/{copy.id}", data={
        "section_code": "F", "section_title": "创新", "code": "A1", "description": "重复编号", "max_points": "2",
        "department": "housing_center"})
    assert bad.status_code == 422 and "条目编号“A1”重复" in bad.get_data(as_text=True)
    over = center.post(f"/evaluation/standards/{copy.id}", data={
        "section_code": "F", "section_title": "创新", "code": "F1", "description": "过大", "max_points": "101",
        "department": "housing_center"})
    assert over.status_code == 422 and 'data-field-error="max_points"' in over.get_data(as_text=True)
    assert len(items_of(copy.id)) == 12

    added = center.post(f"/evaluation/standards/{copy.id}", data={
        "section_code": "E", "section_title": "加分项", "code": "E3", "description": "智慧小区建设成效显著",
        "max_points": "2", "department": "housing_center", "is_bonus": "y"}, follow_redirects=True)
    assert "考评条目已添加" in added.get_data(as_text=True)
    e3 = next(i for i in items_of(copy.id) if i.code == "E3")
    assert e3.is_bonus and e3.section.code == "E"

    fire = login_as("fire_brigade")
    assert "智慧小区建设成效显著" in fire.get(f"/evaluation/standards/{copy.id}").get_data(as_text=True)
    assert fire.post(f"/evaluation/standards/{copy.id}", data={
        "section_code": "F", "section_title": "x", "code": "F9", "description": "x", "max_points": "1",
        "department": "fire_brigade"}).status_code == 403
    assert fire.post(f"/evaluation/items/{e3.id}/delete").status_code == 403
    assert login_as("owner").get(f"/evaluation/standards/{copy.id}").status_code == 403
    center.post(f"/evaluation/items/{e3.id}/delete")
    assert "E3" not in [i.code for i in items_of(copy.id)]


def test_excel_export_then_import_round_trip_and_a_bad_file_changes_nothing(app, world, login_as):
    center = login_as("housing_center")
    standard = world["standard"]
    exported = center.get(f"/evaluation/standards/{standard.id}/export.xlsx")
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == list(scoring.COLUMNS) and rows[1][2] == "A1" and rows[1][6] == "住保中心"

    target = scoring.create(None, YEAR + 2)
    rows[1][4] = 8  # A1 10 → 8, and one more item of 2 points keeps the base at 100
    rows.append(["A", "企业管理与备案", "A4", "企业负责人参加住保中心组织的培训", 2, "缺席一次扣 1 分", "住保中心", ""])
    ok = center.post(f"/evaluation/standards/{target.id}/import", data={
        "file": (io.BytesIO(xlsx(rows[1:])), "standard.xlsx")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "已导入 13 个考评条目" in ok.get_data(as_text=True)
    imported = items_of(target.id)
    a4 = next(i for i in imported if i.code == "A4")
    assert a4.section.code == "A" and a4.department == "housing_center" and str(imported[0].max_points) == "8.00"

    broken = [r[:] for r in rows[1:]]
    broken[0][6] = "物业服务企业"  # not a scoring department
    broken[1][4] = "十分"  # not a number
    bad = center.post(f"/evaluation/standards/{target.id}/import", data={
        "file": (io.BytesIO(xlsx(broken)), "standard.xlsx")}, content_type="multipart/form-data")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "第 2 行" in text and "第 3 行" in text and "分值须为数字" in text
    db.session.expire_all()
    assert str(items_of(target.id)[0].max_points) == "8.00" and len(items_of(target.id)) == 13

    unbalanced = [r[:] for r in rows[1:-1]]  # without A4: the base is 98
    bad = center.post(f"/evaluation/standards/{target.id}/import", data={
        "file": (io.BytesIO(xlsx(unbalanced)), "standard.xlsx")}, content_type="multipart/form-data")
    assert "须为 100 分" in bad.get_data(as_text=True)
    assert len(items_of(target.id)) == 13


def test_opening_a_year_locks_its_standard_and_refuses_bad_requests(app, world, login_as):
    center = login_as("housing_center")
    calendar.set_clock(datetime(2026, 9, 30, 9, 0, tzinfo=calendar.SHANGHAI))
    early = center.post("/evaluation/open", data={"year": YEAR, "scoring_due": DUE.isoformat()}, follow_redirects=True)
    assert "该年度考评尚未到开启时间" in early.get_data(as_text=True)
    calendar.set_clock(datetime(2026, 10, 8, 9, 0, tzinfo=calendar.SHANGHAI))
    late = center.post("/evaluation/open", data={"year": YEAR, "scoring_due": "2020-01-01"}, follow_redirects=True)
    assert "评分截止日期不能早于今天" in late.get_data(as_text=True)
    missing = center.post("/evaluation/open", data={"year": YEAR + 5, "scoring_due": DUE.isoformat()},
                          follow_redirects=True)
    assert "请先制定该年度的评分标准" in missing.get_data(as_text=True)
    assert login_as("fire_brigade").post("/evaluation/open", data={
        "year": YEAR, "scoring_due": DUE.isoformat()}).status_code == 403
    assert not db.session.get(ScoringStandard, world["standard"].id).locked

    center.post("/evaluation/open", data={"year": YEAR, "scoring_due": DUE.isoformat()})
    standard = db.session.get(ScoringStandard, world["standard"].id)
    assert standard.locked
    refused = center.post(f"/evaluation/standards/{standard.id}", data={
        "section_code": "E", "section_title": "加分项", "code": "E9", "description": "晚加的条目",
        "max_points": "1", "department": "housing_center"}, follow_redirects=True)
    assert "评分标准已锁定" in refused.get_data(as_text=True)
    assert "E9" not in [i.code for i in items_of(standard.id)]
