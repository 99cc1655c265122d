"""On the embedded SQLite default, a claim or a completion takes the database's write lock
before it reads the task (`lock_for_writing`), as it takes the task's row lock on
PostgreSQL (tests/engine/test_case_lock.py): of two claims at once one is refused, and a
completion at the moment a colleague claims the task is refused. Before, both read the task
unclaimed while someone else was writing, and the later write won (or failed on SQLite's
stale snapshot)."""
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.engine.test_case_lock import (case_in_review, one_claimed_one_refused, post_in_threads,
                                        refused_over_the_claim)

pytestmark = pytest.mark.sqlite_only  # PostgreSQL's row locks: tests/engine/test_case_lock.py


def while_someone_writes(posts: list, write=None) -> list:
    """Start the POSTs while another connection holds SQLite's write lock; that connection
    makes `write` (SQL, params) a moment later and commits: the POSTs' answers."""
    with db.engine.connect() as holder:
        holder.connection.dbapi_connection.execute("BEGIN IMMEDIATE")
        threads, answers = post_in_threads(posts)
        time.sleep(0.5)  # the requests get as far as they can (no lock wait to see on SQLite)
        if write:
            holder.execute(sa.text(write[0]), write[1])
        holder.connection.dbapi_connection.commit()
    for thread in threads:
        thread.join()
    return answers


def test_of_two_claims_at_the_same_moment_one_is_refused(deployed, factory, api_client):
    instance, review_id = case_in_review(factory)
    (wang, wang_h), (zhao, zhao_h) = api_client("housing_center"), api_client("housing_center")
    answers = while_someone_writes([(wang, wang_h, f"/api/v1/tasks/{review_id}/claim", {}),
                                    (zhao, zhao_h, f"/api/v1/tasks/{review_id}/claim", {})])
    one_claimed_one_refused(answers, instance.id, review_id)


def test_a_completion_while_a_colleague_claims_the_task_is_refused(deployed, factory, api_client):
    instance, review_id = case_in_review(factory)
    colleague = factory.user("housing_center", username="colleague_li")
    db.session.commit()
    client, headers = api_client("housing_center")
    [(status, body)] = while_someone_writes(
        [(client, headers, f"/api/v1/tasks/{review_id}/complete", {"decision": "approve"})],
        ("UPDATE human_task SET claimed_by_id = :u, claimed_at = CURRENT_TIMESTAMP WHERE id = :t",
         {"u": colleague.id, "t": review_id}))
    refused_over_the_claim(status, body, instance.id, review_id, colleague.id)
