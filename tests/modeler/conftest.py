"""Modeler fixtures: the demo process deployed (v1), process managers logged in."""
from pathlib import Path

import pytest

from app.engine.deploy import deploy

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
DEMO = (BPMN / "demo_review.bpmn").read_text(encoding="utf-8")


@pytest.fixture
def demo_v1(app):
    version, _created = deploy("demo_review", DEMO, note="bpmn/demo_review.bpmn")
    return version


@pytest.fixture
def manager(login_as):
    return login_as("process_manager", username="liucheng")


def draft_of(client, key="demo_review") -> dict:
    response = client.get(f"/modeler/{key}/draft.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def save(client, xml, lock, key="demo_review", **extra):
    return client.post(f"/modeler/{key}/draft", json={"xml": xml, "lock_version": lock, **extra})


def edited(xml: str) -> str:
    """The demo with the review task renamed and the center's lane given to the housing bureau."""
    return (xml.replace('name="审核材料"', 'name="审核申报材料"')
            .replace('<bpmn:lane id="lane_center" name="住保中心">', '<bpmn:lane id="lane_center" name="住建局">'))
