"""The public survey pages are rate-limited per client address."""
import pytest

from tests.fieldwork.test_surveys import _links, _open


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "SURVEY_RATE_LIMIT": "3 per minute", "RATELIMIT_STORAGE_URI": "memory://"}


def test_the_public_answer_page_is_rate_limited(app, client, world, login_as):
    _center, survey = _open(login_as, world["community"])
    link = _links(app, survey)[0]
    assert [client.get(link).status_code for _ in range(3)] == [200, 200, 200]
    assert client.get(link).status_code == 429
    assert client.get("/s/2026/guessing-tokens").status_code == 429
