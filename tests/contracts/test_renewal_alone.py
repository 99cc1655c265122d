"""Renewal reminders with two schedulers: a run while another holds the job's lock stops at
once and reminds nobody; the next run reminds once."""
from datetime import datetime

import pytest

from app.extensions import db
from app.models import Notification
from tests.contracts.conftest import SHANGHAI
from tests.contracts.test_templates_and_renewal import file_contract
from tests.ops.test_periodic_jobs_alone import another_run_holding

pytestmark = pytest.mark.postgres_only


def test_a_second_reminder_run_stops_while_one_runs(world, login_as, clock):
    from workers.contracts import renewal_reminders
    clock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    file_contract(world, login_as, world["community"], "2026-05-20")
    with another_run_holding("contracts.renewal_reminders"):
        assert renewal_reminders() == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Notification)
                             .where(Notification.kind == "contract_renewal")) == 0
    assert renewal_reminders() == 1
    assert renewal_reminders() == 0
