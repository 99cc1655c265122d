"""The public objection form is rate-limited per address (it needs no login)."""
from datetime import timedelta

import pytest

from app.engine.calendar import now
from app.extensions import db, limiter
from app.models import Evaluation
from tests.evaluation.conftest import DUE, YEAR


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "OBJECTION_RATE_LIMIT": "2 per hour"}


def test_objection_form_is_rate_limited(app, world):
    limiter.reset()
    community = world["communities"]["wan"]
    db.session.add(Evaluation(year=YEAR, standard_id=world["standard"].id, enterprise_id=community.enterprise_id,
                              community_id=community.id, scoring_due=DUE, status="disclosure", total=90,
                              disclosure_ends=now() + timedelta(days=3)))
    db.session.commit()
    url = f"/public/evaluation/communities/{community.id}/objections"
    client = app.test_client()
    codes = [client.post(url, data={"name": "", "phone": "", "content": ""}).status_code for _ in range(3)]
    assert codes == [422, 422, 429]
