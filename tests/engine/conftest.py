"""Engine fixtures: the shipped diagrams deployed, the sandbox bank running, a demo case."""
from pathlib import Path

import pytest

from app.engine import calendar
from app.engine.deploy import deploy_directory

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.fixture
def deployed(app):
    return deploy_directory(BPMN_DIR)


@pytest.fixture
def bank_sandbox(app):
    """The sandbox bank as a real HTTP server; the app's bank settings point at it."""
    from sandbox.bank import create_app as create_bank
    from sandbox.server import serve_in_thread
    bank_app = create_bank(key_id=app.config["BANK_KEY_ID"], secret=app.config["BANK_SECRET"])
    url, shutdown = serve_in_thread(bank_app)
    app.config["BANK_GATEWAY_URL"] = url
    bank_app.base_url = url
    yield bank_app
    shutdown()


@pytest.fixture
def clock():
    """Pin the engine's clock: clock(datetime) sets it, reset afterwards."""
    yield calendar.set_clock
    calendar.set_clock(None)


@pytest.fixture(autouse=True)
def _fast_retries(app):
    app.config["ENGINE_RETRY_BASE_SECONDS"] = 0


