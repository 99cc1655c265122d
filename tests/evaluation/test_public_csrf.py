"""With CSRF protection on (as in production), the cached public page carries no token and
an owner's objection is still accepted (the form is rate-limited instead)."""
from datetime import timedelta

import pytest

from app.engine.calendar import now
from app.extensions import db
from app.models import Evaluation, EvaluationObjection
from tests.evaluation.conftest import DUE, YEAR


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_public_objection_needs_no_token(app, world):
    community = world["communities"]["wan"]
    ev = Evaluation(year=YEAR, standard_id=world["standard"].id, enterprise_id=community.enterprise_id,
                    community_id=community.id, scoring_due=DUE, status="disclosure", total=90,
                    disclosure_ends=now() + timedelta(days=3))
    db.session.add(ev)
    db.session.commit()
    client = app.test_client()
    page = client.get(f"/public/evaluation/communities/{community.id}").get_data(as_text=True)
    assert "提交异议" in page and 'name="csrf_token"' not in page.split('id="objection"')[1]
    done = client.post(f"/public/evaluation/communities/{community.id}/objections",
                       data={"name": "赵女士", "phone": "13911112222", "content": "请复核满意度得分。"})
    assert done.status_code == 200 and db.session.scalar(db.select(db.func.count(EvaluationObjection.id))) == 1
