"""Ratings come from the DMN tables that process managers edit in the modeler: a manager
moves the 4-star threshold in the star_rating table and deploys; the next rating of the
same score follows the new table, and the earlier rating stays as it was recorded."""
from decimal import Decimal

from app.extensions import db
from app.models import Evaluation
from app.services import evaluation, modeler
from tests.evaluation.conftest import DUE, YEAR


def an_evaluation(world, community, total) -> Evaluation:
    ev = Evaluation(year=YEAR, standard_id=world["standard"].id, enterprise_id=community.enterprise_id,
                    community_id=community.id, scoring_due=DUE, total=Decimal(total))
    db.session.add(ev)
    db.session.commit()
    return ev


def test_a_manager_moves_a_threshold_in_the_modeler_and_the_rating_follows(app, world, factory, login_as):
    community = world["communities"]["huayuan"]  # 德馨 serves only this community
    ev = an_evaluation(world, community, "88.00")
    assert evaluation.rate(ev) == {"stars": 3, "grade": "B", "enterprise_score": "88.00"}
    db.session.commit()

    manager = factory.user("process_manager")
    page = login_as("process_manager").get("/modeler/evaluation_rating/decisions/star_rating.dmn/edit")
    assert page.status_code == 200
    draft = modeler.open_draft("evaluation_rating", manager)
    moved = draft.dmn_files["star_rating.dmn"].replace("&gt;= 90", "&gt;= 85")
    draft = modeler.save_draft("evaluation_rating", manager, draft.lock_version, dmn_files={"star_rating.dmn": moved})
    version, created = modeler.deploy_draft("evaluation_rating", manager, "四星门槛由 90 分调整为 85 分",
                                            draft.lock_version)
    assert created and version.number == 2

    again = an_evaluation(world, world["communities"]["wan"], "88.00")
    assert evaluation.rate(again)["stars"] == 4  # same score, new table
    db.session.commit()
    assert db.session.get(Evaluation, ev.id).star_rating == 3  # recorded with the table of its time
    assert world["enterprises"]["donghe"].star_rating is None  # rated, not yet in force
    again.status = "final"
    evaluation.apply_rating(again)
    db.session.commit()
    assert world["enterprises"]["donghe"].star_rating == 4 and world["communities"]["wan"].grade == "B"


def test_ratings_take_effect_when_final_and_the_stars_when_all_the_enterprises_results_are(app, world):
    """乾元 serves two communities: each result's stars are disclosed as rated at the time;
    a community's grade takes effect when its result is final, the enterprise's stars when
    the last of its results is, decided on the final totals."""
    qianyuan, shiji, xincheng = world["enterprises"]["qianyuan"], world["communities"]["shiji"], \
        world["communities"]["xincheng"]
    first = an_evaluation(world, shiji, "96.00")
    assert evaluation.rate(first)["stars"] == 5  # its own 96 is all there is yet
    second = an_evaluation(world, xincheng, "80.00")
    assert evaluation.rate(second) == {"stars": 3, "grade": "B", "enterprise_score": "88.00"}
    db.session.commit()
    assert (qianyuan.star_rating, shiji.grade, xincheng.grade) == (None, None, None)  # disclosed, not in force

    first.status = "final"
    evaluation.apply_rating(first)
    db.session.commit()
    assert (qianyuan.star_rating, shiji.grade, xincheng.grade) == (None, "A", None)  # 乾州新城 still undecided

    second.status = "final"
    evaluation.apply_rating(second)
    db.session.commit()
    assert (qianyuan.star_rating, shiji.grade, xincheng.grade) == (3, "A", "B")  # (96 + 80) / 2 = 88, not 5
