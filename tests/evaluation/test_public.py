"""The public pages, without login: a community's page (enterprise, stars, grade, the year's
score with its breakdown, escrow balance, contract status, high-risk notices, disclosures and
a QR code pointing at the page), the city-wide ranking, and the owners' objection form with
its refusals."""
from app.extensions import db
from app.models import EvaluationObjection
from app.services import evaluation, records
from tests.evaluation.conftest import DUE, YEAR, score_everything

SCORES = {"shiji": {"fire_brigade": {"C1": "6"}}, "wan": {"housing_center": {"D1": "10"}}}


def disclosed_year(world, scorers):
    evaluation.open_year(scorers["housing_center"].user, YEAR, DUE)
    score_everything(world, scorers, SCORES)


def test_community_page_shows_the_result_and_is_cached(app, world, scorers):
    community = world["communities"]["shiji"]
    client = app.test_client()
    before = client.get(f"/public/evaluation/communities/{community.id}")
    assert before.status_code == 200 and "本小区暂无公示的考评结果" in before.get_data(as_text=True)

    disclosed_year(world, scorers)
    world["enterprises"]["qianyuan"].risk_status = "listed"
    records.disclose(community.id, "risk_notice", "关于吉首市乾元物业服务有限公司经营风险的书面告知",
                     body="该企业拒不备案。", enterprise_id=community.enterprise_id)
    db.session.commit()
    page = client.get(f"/public/evaluation/communities/{community.id}")
    text = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "public, max-age=60"
    assert "吉首市乾元物业服务有限公司" in text and "公示中" in text
    # The disclosed rating is shown as the result's, not yet as the enterprise's and the community's.
    assert "本次评定：企业星级 5 星，小区等级 A" in text and "（公示期满、异议处理完毕后生效）" in text
    assert '<dd class="col-sm-9" data-testid="stars">未评定' in text and 'data-testid="grade">未评定' in text
    assert 'data-testid="total">96.00' in text and "消防救援大队评分" in text
    assert "未纳入资金监管" in text and "未备案" in text
    assert "已列入高风险企业管控名单" in text and "经营风险的书面告知" in text
    assert "2026 年度物业服务考评结果公示" in text  # the Disclosure row written by the process
    assert "张三" not in text and "手机" in text  # the objection form, no personal data shown

    # Only the visitor-independent part is cached: a logged-in visitor's navigation never reaches the public.
    logged_in = scorers["housing_center"].get(f"/public/evaluation/communities/{community.id}")
    assert "待办任务" in logged_in.get_data(as_text=True) and logged_in.headers["Cache-Control"].startswith("private")
    anonymous = client.get(f"/public/evaluation/communities/{community.id}").get_data(as_text=True)
    assert "待办任务" not in anonymous and 'data-testid="total">96.00' in anonymous
    assert 'name="csrf_token"' not in anonymous.split('id="objection"')[1]  # the cached form carries nobody's token

    # A change committed through the models shows at once (the commit empties the cache) …
    community.name = "改名小区"
    db.session.commit()
    assert "改名小区" in client.get(f"/public/evaluation/communities/{community.id}").get_data(as_text=True)
    # … one made behind their back (as by another process) waits for the minute: the page is cached.
    db.session.execute(db.text("UPDATE community SET name = '再改名小区' WHERE id = :id"), {"id": community.id})
    db.session.commit()
    assert "再改名小区" not in client.get(f"/public/evaluation/communities/{community.id}").get_data(as_text=True)
    db.session.expire_all()

    qr = client.get(f"/public/evaluation/communities/{community.id}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    assert client.get("/public/evaluation/communities/999999").status_code == 404
    poster = client.get(f"/public/evaluation/communities/{community.id}/poster").get_data(as_text=True)
    assert "再改名小区" in poster and "96.00" in poster and f"/public/evaluation/communities/{community.id}/qr.svg" in poster


def test_qr_code_encodes_the_community_page(app, world):
    import io
    import qrcode
    community = world["communities"]["wan"]
    with app.test_request_context():
        from flask import url_for
        url = url_for("evaluation.public_community", community_id=community.id, _external=True)
    served = app.test_client().get(f"/public/evaluation/communities/{community.id}/qr.svg").data
    import qrcode.image.svg
    out = io.BytesIO()
    qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2).save(out)
    assert served == out.getvalue()  # the served code carries this page's address


def test_city_ranking_lists_disclosed_results_best_first(app, world, scorers):
    disclosed_year(world, scorers)
    text = app.test_client().get("/public/evaluation/ranking").get_data(as_text=True)
    # 乾州新城 100 and 民族花园 100 (ties in opening order), 世纪华庭 96, 峒河湾 90.
    order = [text.index(name) for name in ("乾州新城", "民族花园", "世纪华庭", "峒河湾")]
    assert order == sorted(order)
    assert [str(r.total) for r in evaluation.ranking(YEAR)] == ["100.00", "100.00", "96.00", "90.00"]
    # Enterprises by their average: 德馨 100, 乾元 (96 + 100) / 2 = 98, 峒河 90.
    table = text.split('data-testid="enterprise-ranking"')[1].split("</table>")[0]
    order = [table.index(name) for name in ("德馨", "乾元", "峒河")]
    assert order == sorted(order) and "98.00" in table


def test_owner_objection_needs_name_and_phone_and_only_in_the_period(app, world, scorers):
    disclosed_year(world, scorers)
    community = world["communities"]["wan"]
    client = app.test_client()
    url = f"/public/evaluation/communities/{community.id}/objections"
    bad = client.post(url, data={"name": "", "phone": "123", "content": "扣分不合理"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请填写姓名" in text and "请填写 11 位手机号码" in text
    assert db.session.scalar(db.select(db.func.count(EvaluationObjection.id))) == 0
    assert client.post(f"/public/evaluation/communities/{world['communities']['shiji'].id}/objections",
                       data={"name": "王先生", "phone": "13900001111", "content": "满意度扣分偏多"}).status_code == 200
    assert db.session.scalar(db.select(db.func.count(EvaluationObjection.id))) == 1
