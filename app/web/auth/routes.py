"""Login, logout, password change, language switch."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.permissions import login_required, public
from app.extensions import limiter
from app.services import users
from app.services.errors import ValidationFailed
from forms.auth import LoginForm, PasswordChangeForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.username.data, form.password.data)
        if user is None:
            form.password.errors.append(_("用户名或密码不正确，或账号已被锁定。"))
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session on login: no fixation
            if lang:  # chosen on the login page: kept with the account too
                session["lang"] = lang
                users.set_language(user, lang)
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    logout_user()
    session.clear()
    flash(_("您已安全退出。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            users.change_password(current_user, form.current_password.data, form.new_password.data)
        except ValidationFailed as e:
            for name, message in e.fields.items():
                getattr(form, name).errors.append(message)
        else:
            login_user(current_user._get_current_object(), fresh=True)  # keep this session; others are invalidated
            flash(_("密码已修改。"), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)


@bp.route("/lang/<code>", methods=["POST"])
@public
def set_language(code):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            users.set_language(current_user, code)
    return redirect(_safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path))


@bp.route("/account/substitutes", methods=["GET", "POST"])
@login_required
def substitutes():
    """Out of office: name who acts on my tasks, and when."""
    from app.services import users as user_service
    from forms.orgs import SubstituteForm
    form = SubstituteForm()
    if form.validate_on_submit():
        try:
            user_service.add_substitute(current_user, form.username.data, form.starts_on.data, form.ends_on.data)
        except ValidationFailed as e:
            for name, message in e.fields.items():
                getattr(form, name).errors.append(message)
        else:
            flash(_("代理已设置。"), "success")
            return redirect(url_for("auth.substitutes"))
    return render_template("auth/substitutes.html", form=form, rows=user_service.substitutes_of(current_user))


@bp.route("/account/substitutes/<int:row_id>/delete", methods=["POST"])
@login_required
def delete_substitute(row_id):
    from app.services import users as user_service
    user_service.remove_substitute(current_user, row_id)
    flash(_("代理已取消。"), "info")
    return redirect(url_for("auth.substitutes"))
