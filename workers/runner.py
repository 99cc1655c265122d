"""The function every RQ job calls: it gives the job an app context and a clean session,
then runs the named job function with plain arguments (app.jobs.execute: the outbox claim
first, the row deleted after)."""
from flask import has_app_context

_app = None


def _get_app():
    global _app
    if _app is None:
        from app import create_app
        _app = create_app()
    return _app


def run(func_path: str, args: list, kwargs: dict, outbox_id: str | None = None):
    from app.extensions import db
    from app.jobs import execute

    if has_app_context():
        return execute(func_path, args, kwargs, outbox_id)
    with _get_app().app_context():
        try:
            return execute(func_path, args, kwargs, outbox_id)
        finally:
            db.session.remove()
