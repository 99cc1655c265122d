"""Role codes (DESIGN.md glossary) with their display names, in one place.

A role is a permission, not a folder: pages and API ask `app.permissions` whether the
current user holds a role; BPMN lanes name these codes.
"""
from flask_babel import lazy_gettext as _l


def N_(text: str) -> str:
    """Marks a string for translation extraction without translating it (gettext's N_)."""
    return text


ROLES_ZH = {
    "housing_center": N_("住保中心"),
    "housing_bureau": N_("住建局"),
    "natural_resources": N_("自然资源局"),
    "fire_brigade": N_("消防救援大队"),
    "market_regulation": N_("市场监管局"),
    "justice_bureau": N_("司法局"),
    "street_office": N_("街道办事处"),
    "enterprise": N_("物业服务企业"),
    "bank": N_("托管银行"),
    "device_supplier": N_("智能设备供应商"),
    "owners_committee": N_("业主委员会"),
    "owner": N_("业主"),
    "mediator": N_("调解员"),
    "admin": N_("系统管理员"),
    "process_manager": N_("流程管理员"),
}

# Display names, translated; BPMN lanes may use the Chinese names (ROLES_ZH) whatever the UI language.
ROLES = {code: _l(name) for code, name in ROLES_ZH.items()}

# Government departments: one Department row each (created by `flask demo seed` or an administrator).
DEPARTMENT_ROLES = (
    "housing_center", "housing_bureau", "natural_resources", "fire_brigade",
    "market_regulation", "justice_bureau",
)

# Roles whose users act for one organisation, and the User column naming it.
ORG_ROLES = {
    "enterprise": "enterprise_id",
    "bank": "bank_id",
    "device_supplier": "device_supplier_id",
    "owners_committee": "owners_committee_id",
    "street_office": "street_office_id",
    "owner": "community_id",
}

# Roles that see every organisation's records (supervisors).
SUPERVISOR_ROLES = {"housing_center", "housing_bureau", "admin"}


def role_name(code: str) -> str:
    return str(ROLES.get(code, code))


def role_for_lane(lane: str | None) -> str | None:
    """A BPMN lane names a role by its code or by its Chinese name."""
    if not lane:
        return None
    lane = lane.strip()
    if lane in ROLES:
        return lane
    for code, name in ROLES_ZH.items():
        if name == lane:
            return code
    return None
