"""The function every RQ job calls: it gives the job an app context and a clean session,
then calls the named job function with plain arguments."""
from flask import has_app_context

_app = None


def _get_app():
    global _app
    if _app is None:
        from app import create_app
        _app = create_app()
    return _app


def run(func_path: str, args: list, kwargs: dict):
    from app.extensions import db
    from app.jobs import resolve

    if has_app_context():
        return resolve(func_path)(*args, **kwargs)
    with _get_app().app_context():
        try:
            return resolve(func_path)(*args, **kwargs)
        finally:
            db.session.remove()
