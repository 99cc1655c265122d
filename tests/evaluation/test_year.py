"""A full evaluation year: three enterprises at four communities, five departments scoring
in parallel through their inbox tasks, an inspection feeder's lines flowing into the total
and the breakdown, the ratings by DMN (and a redeployed table moving a threshold), the
public disclosure with objections (an accepted one changes the score, one after the period
is refused), then the final result: credit file and year-end settlements with the scores."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from app.engine import calendar, runtime
from app.extensions import db
from app.models import (CreditRecord, Disclosure, Evaluation, EvaluationObjection, HumanTask, Notification,
                        ProcessInstance)
from app.services import escrow, evaluation_inputs
from app.services.evaluation_inputs import EvaluationInput
from tests.escrow.conftest import bank_url  # noqa: F401  the sandbox bank, for the supervised accounts
from tests.evaluation.conftest import (DUE, YEAR, complete, deploy_rating, evaluation_of, fields_for, open_tasks,
                                      read, score_everything)

SCORES = {  # community → department → {item code: points}; unlisted items get full marks, bonuses 0
    "shiji": {"fire_brigade": {"C1": "6"}},  # 100 − 4, and an inspection deducts 2 more → 94
    "xincheng": {"housing_center": {"E1": "3"}},  # a bonus: 103
    "wan": {"market_regulation": {"C3": "1"}, "street_office": {"B3": "4"}, "housing_center": {"D1": "12"}},  # 82
    "huayuan": {"housing_center": {"A3": "0", "D1": "8"}},  # 78
}
EXPECTED = {"shiji": "94.00", "xincheng": "103.00", "wan": "82.00", "huayuan": "78.00"}


@pytest.fixture
def inspections():
    """A small feeder standing in for daily inspections: one finding at 世纪华庭."""
    def feed(enterprise_id, community_id, year):
        if community_id != inspections.community_id or year != YEAR:
            return []
        return [EvaluationInput("B1", Decimal("-2.00"), "inspection", 7, "日常考核：3 栋楼道堆放杂物未清理")]

    evaluation_inputs.FEEDERS["test_inspections"] = feed
    yield inspections
    evaluation_inputs.FEEDERS.pop("test_inspections", None)


def test_open_year_starts_one_case_per_pair_with_a_scoring_task_per_department(app, world, scorers):
    center = scorers["housing_center"]
    response = center.post("/evaluation/open", data={"year": YEAR, "scoring_due": DUE.isoformat()},
                           follow_redirects=True)
    assert response.request.path.startswith("/jobs/")  # a long job: its page shows the progress, then this
    assert "已开启 4 个小区的年度考评" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Evaluation.id))) == 4
    assert world["standard"].locked
    ev = evaluation_of(world["communities"]["wan"])
    tasks = open_tasks(ev, "score")
    assert len(tasks) == 5 and all(t.due_at is not None for t in tasks)
    # The fire brigade sees its own task in its inbox; the market regulator does not see it as a to-do.
    fire_task = next(t for t in tasks if t.role == "fire_brigade")
    assert f"/tasks/{fire_task.id}" in scorers["fire_brigade"].get("/inbox").get_data(as_text=True)
    assert f"/tasks/{fire_task.id}" not in scorers["market_regulation"].get("/inbox").get_data(as_text=True)
    # Opening again starts nothing twice.
    center.post("/evaluation/open", data={"year": YEAR, "scoring_due": DUE.isoformat()})
    assert db.session.scalar(db.select(db.func.count(Evaluation.id))) == 4


def test_scoring_refusals_over_maximum_and_wrong_department(app, world, scorers):
    from app.services import evaluation
    evaluation.open_year(scorers["housing_center"].user, YEAR, DUE)
    ev = evaluation_of(world["communities"]["wan"])
    fire_task = next(t for t in open_tasks(ev, "score") if t.role == "fire_brigade")
    c1 = next(i for i in ev.standard.items if i.code == "C1")

    over = complete(scorers["fire_brigade"], fire_task, fields_for(ev, "fire_brigade", {"C1": "10.5"}))
    page = over.get_data(as_text=True)
    assert f'data-field-error="i{c1.id}"' in page and "本项满分 10.00 分" in page
    assert db.session.get(HumanTask, fire_task.id).status == "open"

    for intruder in ("market_regulation", "housing_center", "street_office:qianzhou"):
        refused = scorers[intruder].post(f"/tasks/{fire_task.id}", data={
            "action": "complete", **fields_for(ev, "fire_brigade", {})})
        assert refused.status_code in (403, 404), intruder
        assert db.session.get(HumanTask, fire_task.id).status == "open"
    # A street office scores only the communities of its own street.
    street_task = next(t for t in open_tasks(ev, "score") if t.role == "street_office")
    assert scorers["street_office:qianzhou"].post(f"/tasks/{street_task.id}", data={
        "action": "complete", **fields_for(ev, "street_office", {})}).status_code in (403, 404)
    assert db.session.get(HumanTask, street_task.id).status == "open"
    assert not ev.scores


def test_the_total_waits_for_every_department(app, world, scorers):
    """The multi-instance task completes only when its last instance does; until then no total."""
    from app.services import evaluation
    evaluation.open_year(scorers["housing_center"].user, YEAR, DUE)
    community = world["communities"]["huayuan"]
    ev = evaluation_of(community)
    tasks = open_tasks(ev, "score")
    for task in tasks[:-1]:
        client = scorers["street_office:donghe"] if task.role == "street_office" else scorers[task.role]
        complete(client, task, fields_for(ev, task.role, {}))
    db.session.expire_all()
    ev = evaluation_of(community)
    assert ev.status == "scoring" and ev.total is None and len(open_tasks(ev, "score")) == 1
    progress = scorers["housing_center"].get(f"/evaluation/{ev.id}").get_data(as_text=True)
    table = progress.split('data-testid="scoring-progress"')[1].split("</table>")[0]
    assert table.count("已评分") == 4 and table.count("待评分") == 1
    last = tasks[-1]
    client = scorers["street_office:donghe"] if last.role == "street_office" else scorers[last.role]
    complete(client, last, fields_for(ev, last.role, {}))
    db.session.expire_all()
    ev = evaluation_of(community)
    assert ev.status == "disclosure" and ev.total == Decimal("100.00")
    assert len({s.human_task_id for s in ev.scores}) == 5  # each item traced to the task that scored it


def test_who_sees_which_evaluation(app, world, scorers, login_as):
    from app.services import evaluation
    evaluation.open_year(scorers["housing_center"].user, YEAR, DUE)
    shiji, wan = evaluation_of(world["communities"]["shiji"]), evaluation_of(world["communities"]["wan"])
    qianyuan = login_as("enterprise", org=world["enterprises"]["qianyuan"])
    listing = qianyuan.get(f"/evaluation/?year={YEAR}").get_data(as_text=True)
    assert "世纪华庭" in listing and "乾州新城" in listing and "峒河湾" not in listing
    assert qianyuan.get(f"/evaluation/{wan.id}").status_code == 404
    assert qianyuan.get(f"/evaluation/{shiji.id}").status_code == 200
    donghe_street = scorers["street_office:donghe"]
    assert donghe_street.get(f"/evaluation/{wan.id}").status_code == 200
    assert donghe_street.get(f"/evaluation/{shiji.id}").status_code == 404
    assert scorers["fire_brigade"].get(f"/evaluation/{shiji.id}").status_code == 200
    assert login_as("owner").get("/evaluation/").status_code == 403
    # Objections on the logged-in page are the evaluated enterprise's, and only during disclosure.
    refused = qianyuan.post(f"/evaluation/{shiji.id}", data={"content": "尚在评分阶段"})
    assert refused.status_code == 422 and "不在公示期内" in refused.get_data(as_text=True)
    assert scorers["fire_brigade"].post(f"/evaluation/{shiji.id}", data={"content": "x"}).status_code == 403


def test_a_full_year(app, world, scorers, login_as, factory, inspections, bank_url):  # noqa: F811
    from app.services import evaluation
    communities = world["communities"]
    inspections.community_id = communities["shiji"].id
    for name in ("shiji", "wan"):  # supervised accounts to settle at year end
        escrow.open_account({"community_id": communities[name].id, "bank_id": _bank(world).id,
                             "payee_account_no": "6222021234567890128", "payee_name": "企业基本户"},
                            scorers["housing_center"].user)
    qianyuan_user = factory.user("enterprise", org=world["enterprises"]["qianyuan"])
    evaluation.open_year(scorers["housing_center"].user, YEAR, DUE)
    score_everything(world, scorers, SCORES)

    # Totals with their breakdown: every point traced to a scoring task, a feeder line or an objection.
    for name, total in EXPECTED.items():
        ev = evaluation_of(communities[name])
        assert ev.status == "disclosure" and ev.total == Decimal(total), name
        lines = ev.breakdown["lines"]
        assert sum(Decimal(x["points"]) for x in lines) == Decimal(total)
        assert all(x["task_id"] for x in lines if x["kind"] == "score")
    shiji = evaluation_of(communities["shiji"])
    feeder_line = next(x for x in shiji.breakdown["lines"] if x["kind"] == "input")
    assert feeder_line == {"kind": "input", "item_code": "B1", "points": "-2.00", "source": "inspection",
                           "source_id": 7, "title": "日常考核：3 栋楼道堆放杂物未清理"}
    page = scorers["housing_center"].get(f"/evaluation/{shiji.id}").get_data(as_text=True)
    assert "3 栋楼道堆放杂物未清理" in page and "消防救援大队评分" in page

    # Ratings by DMN: 乾元 averages (94 + 103) / 2 = 98.5 → 5 stars; 峒河 82 → 3; 德馨 78 → 2.
    enterprises = world["enterprises"]
    assert [enterprises[k].star_rating for k in ("qianyuan", "donghe", "dexin")] == [5, 3, 2]
    assert [communities[k].grade for k in ("shiji", "xincheng", "wan", "huayuan")] == ["A", "A", "B", "C"]
    assert db.session.scalar(db.select(db.func.count(Disclosure.id)).where(Disclosure.kind == "evaluation")) == 4

    # A manager moves the 5-star threshold from 95 to 100 and deploys the new table.
    moved = read("star_rating.dmn").replace("&gt;= 95", "&gt;= 100")
    version, created = deploy_rating(moved)
    assert created and version.number == 2

    # An owner objects on the public page; the center accepts (+2 on B1): 94 → 96, re-rated with the new
    # table: 乾元 now averages 99.5 → 4 stars.
    public = app.test_client()
    response = public.post(f"/public/evaluation/communities/{communities['shiji'].id}/objections", data={
        "name": "张女士", "phone": "13874301234", "content": "楼道杂物当天已清理，有照片为证，请核实。"})
    assert "异议已提交" in response.get_data(as_text=True)
    objection = db.session.scalar(db.select(EvaluationObjection))
    assert objection.phone == "138****1234" and objection.status == "pending"
    handle = open_tasks(shiji, "handle_objection")
    assert len(handle) == 1 and handle[0].role == "housing_center"
    bad = complete(scorers["housing_center"], handle[0], {"decision": "accept", "item_code": "B1",
                                                          "adjustment": "3", "reply": "核实属实"})
    assert "调整后本项得分须在 0 至 10.00 分之间" in bad.get_data(as_text=True)
    complete(scorers["housing_center"], handle[0], {"decision": "accept", "item_code": "B1", "adjustment": "2",
                                                    "reply": "经核实已当日清理，恢复 2 分"})
    db.session.expire_all()
    shiji = evaluation_of(communities["shiji"])
    assert shiji.total == Decimal("96.00") and objection.status == "accepted"
    assert any(x["kind"] == "objection" and x["points"] == "2.00" for x in shiji.breakdown["lines"])
    assert db.session.get(type(enterprises["qianyuan"]), enterprises["qianyuan"].id).star_rating == 4
    # The center sees who objected; the enterprise sees an owner's objection, not the owner's name.
    assert "张女士" in scorers["housing_center"].get(f"/evaluation/{shiji.id}").get_data(as_text=True)
    seen = login_as("enterprise", org=enterprises["qianyuan"]).get(f"/evaluation/{shiji.id}").get_data(as_text=True)
    assert "楼道杂物当天已清理" in seen and "张女士" not in seen

    # The enterprise objects too, is answered "no", and cannot object to another enterprise's result.
    donghe_user = login_as("enterprise", org=enterprises["donghe"])
    wan = evaluation_of(communities["wan"])
    assert donghe_user.post(f"/evaluation/{shiji.id}", data={"content": "x"}).status_code == 404
    donghe_user.post(f"/evaluation/{wan.id}", data={"content": "市场监管扣分事实有误。"})
    complete(scorers["housing_center"], open_tasks(wan, "handle_objection")[0],
             {"decision": "reject", "reply": "扣分事实清楚，维持原评分"})
    assert evaluation_of(communities["wan"]).total == Decimal("82.00")

    # After 7 working days the results are final; an objection then is refused and changes nothing.
    ends = shiji.disclosure_ends
    assert ends == datetime(2026, 11, 11, 10, 0, tzinfo=calendar.SHANGHAI)  # 7 working days after Monday 2 November
    calendar.set_clock(ends + timedelta(minutes=1))
    runtime.advance_due_timers()
    late = public.post(f"/public/evaluation/communities/{communities['wan'].id}/objections", data={
        "name": "李先生", "phone": "13900001111", "content": "迟到的异议"})
    assert late.status_code == 422 and "不在公示期内" in late.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(EvaluationObjection.id))) == 2
    finals = {name: evaluation_of(c) for name, c in communities.items()}
    assert all(ev.status == "final" for ev in finals.values())
    assert all(db.session.get(ProcessInstance, ev.instance_id).status == "completed" for ev in finals.values())
    credit = db.session.scalars(db.select(CreditRecord).where(CreditRecord.kind == "score")).all()
    assert sorted(str(r.points) for r in credit) == ["103.00", "78.00", "82.00", "96.00"]
    told = db.session.scalars(db.select(Notification.title).where(Notification.user_id == qianyuan_user.id)).all()
    assert sorted(told) == sorted(["2026 年度考评结果公示：世纪华庭 94.00 分", "2026 年度考评结果公示：乾州新城 103.00 分",
                    "2026 年度考评结果已生效：世纪华庭 96.00 分", "2026 年度考评结果已生效：乾州新城 103.00 分"])

    # Year-end settlements started with the final scores, one per supervised account.
    settlements = db.session.scalars(db.select(ProcessInstance).where(
        ProcessInstance.model_key == "year_end_settlement").order_by(ProcessInstance.id)).all()
    assert len(settlements) == 2
    assert sorted(s.title.rsplit("得分 ", 1)[1] for s in settlements) == ["82.00）", "96.00）"]
    assert {s.community_id for s in settlements} == {communities["shiji"].id, communities["wan"].id}
    page = public.get(f"/public/evaluation/communities/{communities['shiji'].id}").get_data(as_text=True)
    assert "0.00 元" in page and "已生效" in page and "对考评结果提出异议" not in page


def _bank(world):
    from app.models import Bank
    bank = db.session.scalar(db.select(Bank))
    if bank is None:
        bank = Bank(name="湖南吉首农村商业银行", code="JSRCB")
        db.session.add(bank)
        db.session.commit()
    return bank
