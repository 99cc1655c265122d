"""Who may open what: the declared access policy, one entry per route and method (the API's
operations included), checked by tests/security/test_permissions_matrix.py against the app
for every role and anonymous. It is written here, not read from the views, so widening or
narrowing a view's roles fails the test until this table says the same; a route or method
missing here fails too.

An entry names who gets through for the records of tests/security/world.py (the demo data:
each organisation role's user belongs to the organisation those records belong to):
ANYONE (no login needed), LOGGED_IN (any role; what each sees is narrowed by scoping),
SIGNED (no login or token opens it: an HMAC signature does, tested in tests/security/
test_secrets.py), or only(...) these roles. Everyone else is refused with 401, 403 or 404
(or sent to log in) and nothing changes. A role in IN_PAGE_REFUSALS is refused with a
message on the page instead (the inbox's claim buttons), and nothing changes either.

POSTs are sent empty: "gets through" means past every check that does not depend on the
form's content, answered with the form's errors; the rules that do (who may request this
quarter's disbursement, approve a listing, …) are in the domain tests."""
from app.roles import DEPARTMENT_ROLES, ROLES

ANYONE = "anyone"
LOGGED_IN = frozenset(ROLES)
SIGNED = "signed"
DEPARTMENTS = tuple(DEPARTMENT_ROLES)
READ_ALL = (*DEPARTMENTS, "admin", "process_manager")  # app.permissions.READ_ALL_ROLES: they read across organisations


def only(*roles: str) -> frozenset:
    unknown = set(roles) - set(ROLES)
    assert not unknown, unknown
    return frozenset(roles)


POLICY = {
    # admin
    ("admin.audit_log", "GET"): only("admin", "housing_center"),
    ("admin.calendar_days", "GET"): only("admin"),
    ("admin.calendar_days", "POST"): only("admin"),
    ("admin.calendar_year_complete", "POST"): only("admin"),
    ("admin.unlock_user", "POST"): only("admin"),
    ("admin.user_list", "GET"): only("admin"),

    # api
    ("api.claim_task", "POST"): only("housing_center"),
    ("api.add_substitute", "POST"): LOGGED_IN,
    ("api.comment_instance", "POST"): only(*READ_ALL, "enterprise", "street_office"),
    ("api.communities", "GET"): LOGGED_IN,
    ("api.download_attachment", "GET"): only(*READ_ALL, "enterprise", "street_office"),  # as cases.attachment
    ("api.complete_task", "POST"): only("housing_center"),
    ("api.enterprise", "GET"): only(*READ_ALL, "enterprise", "street_office"),
    ("api.enterprise_credit", "GET"): only("admin", "enterprise", "housing_bureau", "housing_center"),
    ("api.enterprises", "GET"): LOGGED_IN,
    ("api.fee_arrears", "GET"): only(*READ_ALL, "enterprise", "owners_committee", "street_office"),
    ("api.fee_rates", "GET"): only(*READ_ALL, "enterprise", "owners_committee", "street_office"),
    ("api.inspection_findings", "GET"): LOGGED_IN,
    ("api.instance_diagram", "GET"): only(*READ_ALL, "enterprise", "street_office"),  # as cases.diagram
    ("api.integration_bank_notification", "POST"): SIGNED,
    ("api.integration_device_events", "POST"): SIGNED,
    ("api.integration_hotline_work_order", "POST"): SIGNED,
    ("api.list_instances", "GET"): LOGGED_IN,
    ("api.list_substitutes", "GET"): LOGGED_IN,  # each user's own
    ("api.list_tasks", "GET"): LOGGED_IN,
    ("api.me", "GET"): LOGGED_IN,
    ("api.openapi", "GET"): ANYONE,
    ("api.post_message", "POST"): only("admin", "housing_center"),
    ("api.remove_substitute", "DELETE"): only("owner"),  # the world's substitute is the owner's
    ("api.reassign_task", "POST"): only("admin", "housing_center"),
    ("api.save_draft", "POST"): only("housing_center"),
    ("api.show_instance", "GET"): only(*READ_ALL, "enterprise", "street_office"),
    ("api.show_task", "GET"): only(*READ_ALL, "enterprise", "street_office"),
    ("api.start_instance", "POST"): only("admin", "enterprise"),
    ("api.supervise_instance", "POST"): only("admin", "housing_center"),
    ("api.unclaim_task", "POST"): only(*READ_ALL, "enterprise", "street_office"),

    # auth
    ("auth.change_password", "GET"): LOGGED_IN,
    ("auth.change_password", "POST"): LOGGED_IN,
    ("auth.delete_substitute", "POST"): only("owner"),
    ("auth.login", "GET"): ANYONE,
    ("auth.login", "POST"): ANYONE,
    ("auth.logout", "POST"): ANYONE,
    ("auth.set_language", "POST"): ANYONE,
    ("auth.substitutes", "GET"): LOGGED_IN,
    ("auth.substitutes", "POST"): LOGGED_IN,

    # cases
    ("cases.attachment", "GET"): only(*READ_ALL, "enterprise", "street_office"),
    ("cases.comment", "POST"): only(*READ_ALL, "enterprise", "street_office"),
    ("cases.diagram", "GET"): only(*READ_ALL, "enterprise", "street_office"),
    ("cases.index", "GET"): LOGGED_IN,
    ("cases.reassign", "POST"): only("admin", "housing_center"),
    ("cases.show", "GET"): only(*READ_ALL, "enterprise", "street_office"),
    ("cases.supervise", "POST"): only("admin", "housing_center"),

    # contracts
    ("contracts.add_opinion", "POST"): only("housing_center"),
    ("contracts.answer_opinion", "POST"): only("enterprise"),
    ("contracts.compare", "GET"): only("admin", "enterprise", "housing_bureau", "housing_center", "justice_bureau",
                                       "street_office"),
    ("contracts.delete_opinion", "POST"): only("housing_center"),
    ("contracts.guide", "GET"): only("admin", "housing_center"),
    ("contracts.guide", "POST"): only("admin", "housing_center"),
    ("contracts.index", "GET"): only("admin", "enterprise", "housing_bureau", "housing_center", "justice_bureau",
                                     "owners_committee", "street_office"),
    ("contracts.new", "GET"): only("admin", "enterprise", "housing_center"),
    ("contracts.new", "POST"): only("admin", "enterprise", "housing_center"),
    ("contracts.resolve_opinion", "POST"): only("housing_center"),
    ("contracts.show", "GET"): only("admin", "enterprise", "housing_bureau", "housing_center", "justice_bureau",
                                    "street_office"),
    ("contracts.template_edit", "GET"): only("admin", "housing_center"),
    ("contracts.template_edit", "POST"): only("admin", "housing_center"),
    ("contracts.template_list", "GET"): LOGGED_IN,
    ("contracts.template_pdf", "GET"): LOGGED_IN,
    ("contracts.template_publish", "POST"): only("justice_bureau"),
    ("contracts.template_show", "GET"): LOGGED_IN,

    # credit
    ("credit.add", "POST"): only("housing_center"),
    ("credit.index", "GET"): only("admin", "enterprise", "housing_bureau", "housing_center"),
    ("credit.show", "GET"): only("admin", "enterprise", "housing_bureau", "housing_center"),

    # devices
    ("devices.advance_plan", "POST"): only("bank"),
    ("devices.board", "GET"): only("admin", "bank", "device_supplier", "enterprise", "housing_bureau",
                                   "housing_center", "street_office"),
    ("devices.decide_plan", "POST"): only("enterprise"),
    ("devices.decide_termination", "POST"): only("bank"),
    ("devices.index", "GET"): only("admin", "bank", "device_supplier", "enterprise", "housing_bureau",
                                   "housing_center", "street_office"),
    ("devices.new", "GET"): only("admin", "device_supplier", "housing_center"),
    ("devices.new", "POST"): only("admin", "device_supplier", "housing_center"),
    ("devices.new_plan", "GET"): only("device_supplier"),
    ("devices.new_plan", "POST"): only("device_supplier"),
    ("devices.plan", "GET"): only("admin", "bank", "device_supplier", "enterprise", "housing_bureau",
                                  "housing_center"),
    ("devices.plans", "GET"): only("admin", "bank", "device_supplier", "enterprise", "housing_bureau",
                                   "housing_center"),
    ("devices.record_payment", "POST"): only("bank"),
    ("devices.records", "GET"): only("admin", "device_supplier", "housing_bureau", "housing_center"),
    ("devices.repairs", "GET"): only("admin", "bank", "device_supplier", "enterprise", "housing_bureau",
                                     "housing_center", "street_office"),
    ("devices.request_termination", "POST"): only("enterprise"),
    ("devices.show", "GET"): only("admin", "bank", "device_supplier", "enterprise", "housing_bureau",
                                  "housing_center", "street_office"),

    # disputes
    ("disputes.add_session", "POST"): only("mediator"),
    ("disputes.import_work_orders", "GET"): only("admin", "housing_center", "street_office"),
    ("disputes.import_work_orders", "POST"): only("admin", "housing_center", "street_office"),
    ("disputes.index", "GET"): only("admin", "enterprise", "housing_bureau", "housing_center", "justice_bureau",
                                    "mediator", "street_office"),
    ("disputes.mediators", "GET"): only("admin", "housing_center", "street_office"),
    ("disputes.mediators", "POST"): only("admin", "housing_center", "street_office"),
    ("disputes.new", "GET"): only("admin", "housing_center", "street_office"),
    ("disputes.new", "POST"): only("admin", "housing_center", "street_office"),
    ("disputes.show", "GET"): only("admin", "enterprise", "housing_bureau", "housing_center", "justice_bureau",
                                   "mediator", "street_office"),
    ("disputes.stats", "GET"): only("admin", "housing_bureau", "housing_center", "justice_bureau", "street_office"),

    # escrow
    ("escrow.account", "GET"): only(*READ_ALL, "bank", "enterprise", "owners_committee", "street_office"),
    ("escrow.account", "POST"): only(*READ_ALL, "bank", "enterprise", "owners_committee", "street_office"),
    ("escrow.agreement_pdf", "GET"): only(*READ_ALL, "bank", "enterprise", "owners_committee", "street_office"),
    ("escrow.balance_series", "GET"): only(*READ_ALL, "bank", "enterprise", "owners_committee", "street_office"),
    ("escrow.index", "GET"): LOGGED_IN,
    ("escrow.heads", "GET"): only("admin"),
    ("escrow.heads", "POST"): only("admin"),
    ("escrow.instructions", "GET"): only("admin", "bank", "housing_center"),
    ("escrow.ledger_export", "GET"): only(*READ_ALL, "bank", "enterprise", "owners_committee", "street_office"),
    ("escrow.open_account", "GET"): only("admin", "housing_center"),
    ("escrow.open_account", "POST"): only("admin", "housing_center"),

    # evaluation
    ("evaluation.create_standard", "POST"): only("admin", "housing_center"),
    ("evaluation.delete_item", "POST"): only("admin", "housing_center"),
    ("evaluation.export_standard", "GET"): only(*DEPARTMENTS, "admin", "enterprise", "street_office"),
    ("evaluation.import_standard", "GET"): only("admin", "housing_center"),
    ("evaluation.import_standard", "POST"): only("admin", "housing_center"),
    ("evaluation.index", "GET"): only(*DEPARTMENTS, "admin", "enterprise", "street_office"),
    ("evaluation.open_year", "POST"): only("admin", "housing_center"),
    ("evaluation.public_community", "GET"): ANYONE,
    ("evaluation.public_objection", "POST"): ANYONE,
    ("evaluation.public_poster", "GET"): ANYONE,
    ("evaluation.public_qr", "GET"): ANYONE,
    ("evaluation.public_ranking", "GET"): ANYONE,
    ("evaluation.show", "GET"): only(*DEPARTMENTS, "admin", "enterprise", "street_office"),
    ("evaluation.show", "POST"): only("enterprise"),
    ("evaluation.standard", "GET"): only(*DEPARTMENTS, "admin", "enterprise", "street_office"),
    ("evaluation.standard", "POST"): only("admin", "housing_center"),

    # fees
    ("fees.arrears", "GET"): only(*READ_ALL, "enterprise", "owners_committee", "street_office"),
    ("fees.index", "GET"): only(*READ_ALL, "enterprise", "owners_committee", "street_office"),
    ("fees.letter", "GET"): only(*READ_ALL, "enterprise", "owners_committee", "street_office"),
    ("fees.reminders", "POST"): only("enterprise", "housing_center", "owners_committee"),
    ("fees.roll_import", "POST"): only("enterprise", "housing_center"),
    ("fees.show", "GET"): only(*READ_ALL, "enterprise", "owners_committee", "street_office"),
    ("fees.urging", "POST"): only("owners_committee"),

    # filing
    ("filing.demand_new", "GET"): only("admin", "housing_center"),
    ("filing.demand_new", "POST"): only("admin", "housing_center"),
    ("filing.high_risk_index", "GET"): only("admin", "housing_bureau", "housing_center"),
    ("filing.high_risk_propose", "POST"): only("housing_center"),
    ("filing.index", "GET"): LOGGED_IN,
    ("filing.public_community", "GET"): ANYONE,
    ("filing.public_disclosure_pdf", "GET"): ANYONE,
    ("filing.public_high_risk", "GET"): ANYONE,
    ("filing.register_import", "GET"): only("admin", "housing_center"),
    ("filing.register_import", "POST"): only("admin", "housing_center"),
    ("filing.signup", "GET"): ANYONE,
    ("filing.signup", "POST"): ANYONE,
    ("filing.start", "POST"): only("enterprise"),
    ("filing.unfiled_new", "GET"): only("admin", "housing_center"),
    ("filing.unfiled_new", "POST"): only("admin", "housing_center"),

    # inbox
    ("inbox.bulk_claim", "POST"): LOGGED_IN,
    ("inbox.claim", "POST"): only("housing_center"),  # the task is in the center"s lane
    ("inbox.index", "GET"): LOGGED_IN,
    ("inbox.task", "GET"): only(*READ_ALL, "enterprise", "street_office"),
    ("inbox.task", "POST"): only("housing_center"),
    ("inbox.unclaim", "POST"): only("housing_center"),

    # inspections
    ("inspections.appeal", "POST"): only("enterprise"),
    ("inspections.decide", "POST"): only("housing_center"),
    ("inspections.finding", "GET"): only(*DEPARTMENTS, "admin", "enterprise", "street_office"),
    ("inspections.index", "GET"): only(*DEPARTMENTS, "admin", "enterprise", "street_office"),
    ("inspections.new", "GET"): only(*DEPARTMENTS, "street_office"),
    ("inspections.new", "POST"): only(*DEPARTMENTS, "street_office"),
    ("inspections.photo", "GET"): only(*DEPARTMENTS, "admin", "enterprise", "street_office"),
    ("inspections.respond", "POST"): only("enterprise"),
    ("inspections.show", "GET"): only(*DEPARTMENTS, "admin", "enterprise", "street_office"),

    # main
    ("main.healthz", "GET"): ANYONE,
    ("main.index", "GET"): LOGGED_IN,

    # modeler
    ("modeler.deploy", "GET"): only("admin", "process_manager"),
    ("modeler.deploy", "POST"): only("admin", "process_manager"),
    ("modeler.diff", "GET"): only("admin", "process_manager"),
    ("modeler.diff_json", "GET"): only("admin", "process_manager"),
    ("modeler.discard", "POST"): only("admin", "process_manager"),
    ("modeler.draft_json", "GET"): only("admin", "process_manager"),
    ("modeler.edit", "GET"): only("admin", "process_manager"),
    ("modeler.edit_decision", "GET"): only("admin", "process_manager"),
    ("modeler.export", "GET"): only("admin", "process_manager"),
    ("modeler.import_file", "POST"): only("admin", "process_manager"),
    ("modeler.index", "GET"): only("admin", "process_manager"),
    ("modeler.migrate", "GET"): only("admin", "process_manager"),
    ("modeler.migrate", "POST"): only("admin", "process_manager"),
    ("modeler.new", "GET"): only("admin", "process_manager"),
    ("modeler.new", "POST"): only("admin", "process_manager"),
    ("modeler.new_decision", "POST"): only("admin", "process_manager"),
    ("modeler.reactivate", "POST"): only("admin", "process_manager"),
    ("modeler.retire", "POST"): only("admin", "process_manager"),
    ("modeler.save", "POST"): only("admin", "process_manager"),
    ("modeler.show", "GET"): only("admin", "process_manager"),
    ("modeler.trial_diagram", "GET"): only("admin", "process_manager"),
    ("modeler.trial_new", "GET"): only("admin", "process_manager"),
    ("modeler.trial_new", "POST"): only("admin", "process_manager"),
    ("modeler.trial_show", "GET"): only("admin", "process_manager"),
    ("modeler.trial_show", "POST"): only("admin", "process_manager"),
    ("modeler.validate", "POST"): only("admin", "process_manager"),
    ("modeler.vocabulary", "GET"): only("admin", "process_manager"),

    # notifications
    ("notifications.index", "GET"): LOGGED_IN,
    ("notifications.read_all", "POST"): LOGGED_IN,

    # orgs
    ("orgs.community_detail", "GET"): only(*READ_ALL, "enterprise", "owner", "owners_committee", "street_office"),
    ("orgs.community_list", "GET"): LOGGED_IN,
    ("orgs.enterprise_detail", "GET"): only(*READ_ALL, "enterprise", "street_office"),
    ("orgs.enterprise_list", "GET"): LOGGED_IN,
    ("orgs.enterprise_new", "GET"): only("admin", "housing_center"),
    ("orgs.enterprise_new", "POST"): only("admin", "housing_center"),
    ("orgs.reveal", "POST"): only("admin", "housing_center"),

    # reports
    ("reports.index", "GET"): only("admin", "housing_bureau", "housing_center"),
    ("reports.index", "POST"): only("admin", "housing_bureau", "housing_center"),
    ("reports.job", "GET"): only(*READ_ALL),
    ("reports.job_progress", "GET"): only(*READ_ALL),
    ("reports.job_restart", "POST"): only("admin", "housing_center"),  # its creator, or a supervisor
    ("reports.job_result", "GET"): only(*READ_ALL),

    # surveys
    ("surveys.answer", "GET"): ANYONE,
    ("surveys.answer", "POST"): ANYONE,
    ("surveys.close", "POST"): only("housing_center", "street_office"),
    ("surveys.index", "GET"): only(*DEPARTMENTS, "admin", "enterprise", "owners_committee", "street_office"),
    ("surveys.new", "GET"): only("housing_center", "street_office"),
    ("surveys.new", "POST"): only("housing_center", "street_office"),
    ("surveys.qr_sheet", "GET"): only("housing_center", "street_office"),
    ("surveys.show", "GET"): only(*DEPARTMENTS, "admin", "enterprise", "owners_committee", "street_office"),

    # takeover
    ("takeover.heads", "GET"): only("admin", "housing_center"),
    ("takeover.heads", "POST"): only("admin", "housing_center"),
    ("takeover.index", "GET"): only("admin", "enterprise", "housing_bureau", "housing_center", "owners_committee",
                                    "street_office"),
    ("takeover.new", "GET"): only("street_office"),
    ("takeover.new", "POST"): only("street_office"),
    ("takeover.recommendations", "GET"): only(*DEPARTMENTS, "admin", "street_office"),
    ("takeover.show", "GET"): only("admin", "housing_bureau", "housing_center", "street_office"),

    # vendor
    ("vendor.vendor_file", "GET"): ANYONE,
}

# Roles that may see the task but not act on it: the inbox's claim answers with a message.
IN_PAGE_REFUSALS = {
    ("inbox.claim", "POST"): only(*READ_ALL, "enterprise", "street_office") - {"housing_center"},
    ("inbox.unclaim", "POST"): only(*READ_ALL, "enterprise", "street_office") - {"housing_center"},
}
