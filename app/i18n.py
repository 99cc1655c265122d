"""Language and time zone: Simplified Chinese by default, English on request.

Message ids are the Chinese texts; app/translations/en holds the English catalog. The
.mo files are build products, compiled from the .po files at start-up when stale.
"""
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, session
from flask_babel import force_locale
from flask_login import current_user


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = request.args.get("lang") or session.get("lang")
    if not wanted and current_user and current_user.is_authenticated:
        wanted = current_user.locale
    if wanted in languages:
        return wanted
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def in_default_language():
    """Texts made inside are in the default language, whoever is acting: what is written for
    the record and read by others (a case's credit records, public notices, documents), as an
    engine operator writes it during someone's completion."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        yield


def language_of(user) -> str:
    """The language a user reads what the system tells them in: the one their account chose
    (the language switch keeps it), else the default."""
    locale = getattr(user, "locale", None)
    return locale if locale in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def in_language_of(user):
    """Texts made inside are in `user`'s language (`language_of`), whoever is acting now: a
    notification is written while one user acts and read by another."""
    with force_locale(language_of(user)):
        yield


def in_every_language(text) -> dict[str, str]:
    """A lazy text (`_l`) made in each language of the app: {locale: text}."""
    made = {}
    for locale in current_app.config["LANGUAGES"]:
        with force_locale(locale):
            made[locale] = str(text)
    return made


def compile_catalogs(app) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = os.path.join(app.root_path, "translations")
    for lang in os.listdir(root) if os.path.isdir(root) else []:
        po = os.path.join(root, lang, "LC_MESSAGES", "messages.po")
        mo = po[:-2] + "mo"
        if not os.path.exists(po) or (os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po)):
            continue
        with open(po, "rb") as f:
            catalog = read_po(f, locale=lang)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(mo))
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, mo)  # atomic: several workers may start at once


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime shown in the configured zone (Asia/Shanghai)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.astimezone(zone).strftime(fmt)


def _translations():
    """The request's translations, looked up once per request. Flask-Babel's template
    callables look up its context, the domain and the locale again on every `_()` (an inbox
    page calls it a hundred times: a tenth of the page's time). The app never switches the
    locale within a request (it would call `flask_babel.refresh()`)."""
    from flask_babel import get_translations
    from app.extensions import request_memo

    memo = request_memo("translations")
    if not memo:
        memo["current"] = get_translations()
    return memo["current"]


def register_template_helpers(app) -> None:
    from app.roles import role_name
    from app.validators import mask

    from flask_babel import get_locale

    app.jinja_env.install_gettext_callables(  # as Flask-Babel's, with the translations looked up once
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["role_name"] = role_name
    app.jinja_env.filters["mask"] = mask
