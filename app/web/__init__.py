"""Server-rendered pages, one blueprint per area."""
import os

from flask import Blueprint, abort, current_app, request, send_from_directory, url_for

from app.permissions import public

# Front-end packages installed by npm that the pages may load (nothing else in node_modules).
VENDOR_PACKAGES = {"bootstrap", "bootstrap-icons", "htmx.org", "bpmn-js", "dmn-js", "echarts", "diagram-js"}

vendor = Blueprint("vendor", __name__)


@vendor.route("/vendor/<package>/<path:filename>")
@public
def vendor_file(package, filename):
    if package not in VENDOR_PACKAGES:
        abort(404)
    root = os.path.join(current_app.config["NODE_MODULES"], package)
    return send_from_directory(root, filename, max_age=86400)


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (filters, page, sort)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    for k in [k for k, v in changes.items() if v is None]:
        args.pop(k, None)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def register_web(app) -> None:
    from app.web.admin.routes import bp as admin_bp
    from app.web.auth.routes import bp as auth_bp
    from app.web.cases.routes import bp as cases_bp
    from app.web.disputes.routes import bp as disputes_bp
    from app.web.escrow.routes import bp as escrow_bp
    from app.web.filing.routes import bp as filing_bp
    from app.web.inbox.routes import bp as inbox_bp
    from app.web.main.routes import bp as main_bp
    from app.web.orgs.routes import bp as orgs_bp

    from app.web.nav import register_nav

    for bp in (vendor, auth_bp, main_bp, admin_bp, orgs_bp, inbox_bp, cases_bp, escrow_bp, filing_bp):
        app.register_blueprint(bp)
    app.register_blueprint(disputes_bp)
    from app.web.reports.routes import bp as reports_bp
    app.register_blueprint(reports_bp)
    from app.web.fees.routes import bp as fees_bp
    app.register_blueprint(fees_bp)
    from app.web.notifications.routes import bp as notifications_bp
    app.register_blueprint(notifications_bp)
    from app.web.contracts.routes import bp as contracts_bp
    app.register_blueprint(contracts_bp)
    from app.web.takeover.routes import bp as takeover_bp
    app.register_blueprint(takeover_bp)
    from app.web.devices.routes import bp as devices_bp
    app.register_blueprint(devices_bp)
    from app.web.modeler.routes import bp as modeler_bp
    app.register_blueprint(modeler_bp)
    from app.web.evaluation.routes import bp as evaluation_bp
    app.register_blueprint(evaluation_bp)
    from app.web.inspections.routes import bp as inspections_bp
    app.register_blueprint(inspections_bp)
    from app.web.surveys.routes import bp as surveys_bp
    app.register_blueprint(surveys_bp)
    from app.web.credit.routes import bp as credit_bp
    app.register_blueprint(credit_bp)
    register_nav(app)
    from app.web.labels import register_labels
    register_labels(app)
    app.jinja_env.globals["url_with"] = url_with
    from app.services.personal_data import may_reveal
    app.jinja_env.globals["may_reveal"] = may_reveal
