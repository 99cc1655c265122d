"""The navigation bar, by role. Each area adds its entries here, in display order."""
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    icon: str
    roles: tuple = ()  # empty: every logged-in user
    count: object = None  # optional callable(user) -> int shown as a badge


NAV = [
    NavItem("main.index", _l("首页"), "bi-house"),
    NavItem("inbox.index", _l("待办任务"), "bi-inbox", count=lambda user: _todo_count(user)),
    NavItem("notifications.index", _l("消息"), "bi-bell", count=lambda user: _unread_count(user)),
    NavItem("cases.index", _l("案件"), "bi-folder2-open",
            ("housing_center", "housing_bureau", "admin", "process_manager", "street_office")),
    NavItem("orgs.enterprise_list", _l("物业企业"), "bi-building"),
    NavItem("orgs.community_list", _l("小区"), "bi-houses"),
    NavItem("filing.index", _l("企业备案"), "bi-clipboard-check", ("housing_center", "housing_bureau", "admin", "enterprise")),
    NavItem("filing.high_risk_index", _l("高风险名单"), "bi-exclamation-octagon", ("housing_center", "housing_bureau", "admin")),
    NavItem("contracts.index", _l("合同备案"), "bi-file-earmark-text", ("housing_center", "housing_bureau", "justice_bureau",
                                                                     "admin", "enterprise", "street_office",
                                                                     "owners_committee")),
    NavItem("escrow.index", _l("资金监管"), "bi-bank", ("housing_center", "housing_bureau", "admin", "enterprise", "bank",
                                                      "street_office", "owners_committee")),
    NavItem("fees.index", _l("物业费收缴"), "bi-cash-coin", ("housing_center", "housing_bureau", "admin", "enterprise",
                                                          "street_office", "owners_committee")),
    NavItem("disputes.index", _l("纠纷调解"), "bi-chat-square-text", ("housing_center", "housing_bureau", "justice_bureau",
                                                                  "admin", "street_office", "mediator", "enterprise")),
    NavItem("takeover.index", _l("应急接管"), "bi-life-preserver", ("housing_center", "housing_bureau", "admin",
                                                                 "street_office", "enterprise", "owners_committee")),
    # The takeover list links to the recommendations; departments without it get them here.
    NavItem("takeover.recommendations", _l("推荐名录"), "bi-award", ("natural_resources", "fire_brigade",
                                                                "market_regulation", "justice_bureau")),
    NavItem("evaluation.index", _l("年度考评"), "bi-clipboard-data", ("housing_center", "housing_bureau", "natural_resources",
                                                                    "fire_brigade", "market_regulation", "admin",
                                                                    "street_office", "enterprise")),
    NavItem("devices.index", _l("智能设备"), "bi-cpu", ("housing_center", "housing_bureau", "admin", "street_office",
                                                       "enterprise", "device_supplier", "bank")),
    NavItem("inspections.index", _l("日常检查"), "bi-clipboard2-pulse", ("housing_center", "housing_bureau",
                                                                         "natural_resources", "fire_brigade",
                                                                         "market_regulation", "justice_bureau",
                                                                         "street_office", "enterprise", "admin")),
    NavItem("surveys.index", _l("满意度调查"), "bi-emoji-smile", ("housing_center", "housing_bureau",
                                                                "natural_resources", "fire_brigade",
                                                                "market_regulation", "justice_bureau",
                                                                "street_office", "enterprise",
                                                                "owners_committee", "admin")),
    NavItem("credit.index", _l("诚信档案"), "bi-journal-check", ("housing_center", "housing_bureau", "admin",
                                                               "enterprise")),
    NavItem("modeler.index", _l("流程模型"), "bi-diagram-3", ("process_manager", "admin")),
    NavItem("admin.audit_log", _l("审计日志"), "bi-journal-text", ("housing_center", "admin")),
    NavItem("admin.user_list", _l("用户"), "bi-people", ("admin",)),
    NavItem("admin.calendar_days", _l("节假日"), "bi-calendar3", ("admin",)),
]


def _unread_count(user) -> int:
    from app.services.notify import unread_count
    return unread_count(user)


def _todo_count(user) -> int:
    """The badge on every page: the todo tab only (counting every tab cost a scan per page)."""
    from app.services.inbox import count_of
    return count_of(user, "todo")


def nav_items(only: str | None = None):
    items = []
    for item in NAV:
        if item.endpoint not in current_app.view_functions or only not in (None, item.endpoint):
            continue
        if item.roles and not current_user.has_role(*item.roles):
            continue
        count = item.count(current_user) if item.count else None
        items.append({"endpoint": item.endpoint, "label": item.label, "icon": item.icon, "count": count,
                      "dom_id": "nav-" + item.endpoint.replace(".", "-")})
    return items


def nav_item(endpoint: str) -> dict | None:
    """One entry as the bar shows it now (an htmx answer refreshes its badge out of band)."""
    return next(iter(nav_items(only=endpoint)), None)


def register_nav(app) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
