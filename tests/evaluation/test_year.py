"""A full evaluation year: three enterprises at four communities, five departments scoring
in parallel through their inbox tasks, the real feeders (a recorded inspection finding, a
satisfaction survey with enough answers) flowing into the total and the breakdown, the
ratings by DMN (and a redeployed table moving a threshold), the public disclosure with
objections (an accepted one changes the score, one after the period is refused), then the
final result: credit file and year-end settlements started with the final scores."""
import uuid
from datetime import datetime, timedelta
from decimal import Decimal


from app.engine import calendar, runtime
from app.extensions import db
from app.models import (BankInstruction, CreditRecord, Disclosure, Evaluation, EvaluationObjection, HumanTask,
                        Notification, ProcessInstance, SurveyHousehold)
from app.services import escrow, inspections, surveys
from tests.escrow.conftest import bank_balance, bank_url, deposit  # noqa: F401  the sandbox bank, for the accounts
from tests.evaluation.conftest import (DUE, YEAR, complete, deploy_rating, evaluation_of, fields_for, open_tasks,
                                      read, score_everything)

SCORES = {  # community → department → {item code: points}; unlisted items get full marks, bonuses 0
    "shiji": {"fire_brigade": {"C1": "6"}},  # 100 − 4, and an inspection finding deducts 2 more → 94
    "xincheng": {"housing_center": {"E1": "3"}},  # a bonus: 103, and the survey's 90 % deducts 1 → 102
    "wan": {"market_regulation": {"C3": "1"}, "street_office": {"B3": "4"}, "housing_center": {"D1": "12"}},  # 82
    "huayuan": {"housing_center": {"A3": "0", "D1": "8"}},  # 78
}
EXPECTED = {"shiji": "94.00", "xincheng": "102.00", "wan": "82.00", "huayuan": "78.00"}
GOOD = {"attitude": 5, "cleanliness": 4, "security": 5, "maintenance": 4, "overall": 5}


def fieldwork(app, world, scorers):
    """The real feeders' input: the fire brigade's finding at 世纪华庭 (2 points), and the
    survey at 乾州新城 answered by just enough households, 9 in 10 satisfied overall."""
    communities = world["communities"]
    finding = inspections.record(scorers["fire_brigade"].user, {
        "community_id": communities["shiji"].id, "items": ["消防安全"],
        "findings": [{"item": "消防安全", "description": "3 栋消防通道堆放杂物", "points": "2", "days": 5}]}).findings[0]
    survey = surveys.open_survey(scorers["housing_center"].user, communities["xincheng"].id, households=15)
    households = db.session.scalars(db.select(SurveyHousehold).where(SurveyHousehold.survey_id == survey.id)
                                    .order_by(SurveyHousehold.number)).all()
    enough = app.config["SURVEY_MIN_ANSWERS"]
    assert enough == 10
    for n, household in enumerate(households[:enough]):
        surveys.answer(YEAR, household.token, {**GOOD, "overall": 2} if n == 0 else GOOD)
    return finding, survey


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


def test_a_full_year(app, world, scorers, login_as, factory, bank_url):  # noqa: F811
    from app.services import evaluation
    communities = world["communities"]
    finding, survey = fieldwork(app, world, scorers)
    accounts = {}
    for name in ("shiji", "wan"):  # supervised accounts to settle at year end
        accounts[name] = escrow.open_account({"community_id": communities[name].id, "bank_id": _bank(world).id,
                                              "payee_account_no": "6222021234567890128", "payee_name": "企业基本户"},
                                             scorers["housing_center"].user)
    deposit(bank_url, accounts["shiji"].account_no, "50000.00")
    escrow.pull_statement(db.session.get(type(accounts["shiji"]), accounts["shiji"].id))
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
    inputs = [x for x in shiji.breakdown["lines"] if x["kind"] == "input"]
    assert [(x["source"], x["source_id"], x["points"]) for x in inputs] == [("inspection", finding.id, "-2.00")]
    assert "3 栋消防通道堆放杂物" in inputs[0]["title"]
    xincheng = evaluation_of(communities["xincheng"])
    inputs = [x for x in xincheng.breakdown["lines"] if x["kind"] == "input"]
    assert [(x["source"], x["source_id"], x["points"]) for x in inputs] == [("survey", survey.id, "-1.00")]
    assert "业主满意度 90.0%（10 份答卷）" == inputs[0]["title"]
    page = scorers["housing_center"].get(f"/evaluation/{shiji.id}").get_data(as_text=True)
    assert "3 栋消防通道堆放杂物" in page and "消防救援大队评分" in page

    # Ratings by DMN, disclosed with the totals: 乾元 averages (94 + 102) / 2 = 98 → 5 stars (as rated with
    # 乾州新城, the second of its results; 世纪华庭's, rated on its own 94, said 4); 峒河 82 → 3; 德馨 78 → 2.
    # They are not in force yet: the enterprises and communities keep what they had.
    enterprises = world["enterprises"]
    rated = {name: evaluation_of(c) for name, c in communities.items()}
    assert [rated[k].star_rating for k in ("xincheng", "wan", "huayuan")] == [5, 3, 2]
    assert [rated[k].grade for k in ("shiji", "xincheng", "wan", "huayuan")] == ["A", "A", "B", "C"]
    assert [enterprises[k].star_rating for k in ("qianyuan", "donghe", "dexin")] == [None, None, None]
    assert [communities[k].grade for k in ("shiji", "xincheng", "wan", "huayuan")] == [None, None, None, None]
    assert db.session.scalar(db.select(db.func.count(Disclosure.id)).where(Disclosure.kind == "evaluation")) == 4

    # A manager moves the 5-star threshold from 95 to 100 and deploys the new table.
    moved = read("star_rating.dmn").replace("&gt;= 95", "&gt;= 100")
    version, created = deploy_rating(moved)
    assert created and version.number == 2

    # An owner objects on the public page; the center accepts (+2 on C1): 94 → 96, re-rated with the new
    # table: 乾元 now averages 99 → 4 stars.
    public = app.test_client()
    response = public.post(f"/public/evaluation/communities/{communities['shiji'].id}/objections", data={
        "name": "张女士", "phone": "13874301234", "content": "消防通道杂物当天已清理，演练记录齐全，请核实。"})
    assert "异议已提交" in response.get_data(as_text=True)
    objection = db.session.scalar(db.select(EvaluationObjection))
    assert objection.phone == "138****1234" and objection.status == "pending"
    handle = open_tasks(shiji, "handle_objection")
    assert len(handle) == 1 and handle[0].role == "housing_center"
    bad = complete(scorers["housing_center"], handle[0], {"decision": "accept", "item_code": "C1",
                                                          "adjustment": "5", "reply": "核实属实"})
    assert "调整后本项得分须在 0 至 10.00 分之间" in bad.get_data(as_text=True)
    complete(scorers["housing_center"], handle[0], {"decision": "accept", "item_code": "C1", "adjustment": "2",
                                                    "reply": "经核实演练记录齐全，恢复 2 分"})
    db.session.expire_all()
    shiji = evaluation_of(communities["shiji"])
    assert shiji.total == Decimal("96.00") and objection.status == "accepted"
    assert any(x["kind"] == "objection" and x["points"] == "2.00" for x in shiji.breakdown["lines"])
    assert shiji.star_rating == 4 and enterprises["qianyuan"].star_rating is None  # disclosed, not in force
    # The center sees who objected; the enterprise sees an owner's objection, not the owner's name.
    assert "张女士" in scorers["housing_center"].get(f"/evaluation/{shiji.id}").get_data(as_text=True)
    seen = login_as("enterprise", org=enterprises["qianyuan"]).get(f"/evaluation/{shiji.id}").get_data(as_text=True)
    assert "消防通道杂物当天已清理" in seen and "张女士" not in seen

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
    # Now in force, decided on the final totals: 乾元 (96 + 102) / 2 = 99 → 4 stars with the moved table —
    # 乾州新城's disclosure said 5, rated before the objection at 世纪华庭 moved the average.
    assert [enterprises[k].star_rating for k in ("qianyuan", "donghe", "dexin")] == [4, 3, 2]
    assert [communities[k].grade for k in ("shiji", "xincheng", "wan", "huayuan")] == ["A", "A", "B", "C"]
    assert all(db.session.get(ProcessInstance, ev.instance_id).status == "completed" for ev in finals.values())
    credit = db.session.scalars(db.select(CreditRecord).where(CreditRecord.kind == "score")).all()
    assert sorted(str(r.points) for r in credit) == ["102.00", "78.00", "82.00", "96.00"]
    told = db.session.scalars(db.select(Notification.title).where(Notification.user_id == qianyuan_user.id)).all()
    assert sorted(told) == sorted(["2026 年度考评结果公示：世纪华庭 94.00 分", "2026 年度考评结果公示：乾州新城 102.00 分",
                    "2026 年度考评结果已生效：世纪华庭 96.00 分", "2026 年度考评结果已生效：乾州新城 102.00 分"])

    # Year-end settlements started with the final scores, one per supervised account: 世纪华庭's
    # 50 000.00 is cut by 4 % (score 96), the rest released; 峒河湾's empty account moves nothing.
    settlements = {s.community_id: s for s in db.session.scalars(db.select(ProcessInstance).where(
        ProcessInstance.model_key == "year_end_settlement"))}
    assert set(settlements) == {communities["shiji"].id, communities["wan"].id}
    cut_task = db.session.scalar(db.select(HumanTask).where(
        HumanTask.instance_id == settlements[communities["shiji"].id].id, HumanTask.status == "open"))
    assert cut_task.name == "决定扣减资金用途"
    data = runtime._load(settlements[communities["shiji"].id]).get_task_from_id(uuid.UUID(cut_task.task_uuid)).data
    assert data["score"] == "96.00"
    assert (data["prepared"]["supervised"], data["prepared"]["release"], data["prepared"]["cut"]) == (
        "50000.00", "48000.00", "2000.00")
    release = db.session.scalar(db.select(BankInstruction).where(BankInstruction.kind == "year_end_release"))
    assert release.escrow_account_id == accounts["shiji"].id and release.amount == Decimal("48000.00")
    assert release.status == "success" and bank_balance(bank_url, accounts["shiji"].account_no) == Decimal("2000.00")
    wan_settlement = settlements[communities["wan"].id]
    assert wan_settlement.status == "completed"
    assert runtime._load(wan_settlement).data["score"] == "82.00"
    assert db.session.scalar(db.select(db.func.count(BankInstruction.id))) == 1
    page = public.get(f"/public/evaluation/communities/{communities['shiji'].id}").get_data(as_text=True)
    assert 'data-testid="balance">2000.00 元<' in page  # the cut waits for the owners' committee
    assert "已生效" in page and "对考评结果提出异议" not in page


def _bank(world):
    from app.models import Bank
    bank = db.session.scalar(db.select(Bank))
    if bank is None:
        bank = Bank(name="湖南吉首农村商业银行", code="JSRCB")
        db.session.add(bank)
        db.session.commit()
    return bank
