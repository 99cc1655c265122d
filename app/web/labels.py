"""Display names for engine states and timeline events (translatable)."""
from flask_babel import lazy_gettext as _l

STATUS_NAMES = {
    "running": _l("办理中"), "waiting": _l("等待中"), "completed": _l("已办结"), "error": _l("故障"),
    "suspended": _l("已暂停"), "terminated": _l("已终止"),
}

EVENT_NAMES = {
    "started": _l("发起"), "task_completed": _l("办理"), "task_claimed": _l("签收"), "task_unclaimed": _l("退回待办"),
    "task_reassigned": _l("改派"), "timer_fired": _l("期限届满"), "message_received": _l("收到消息"),
    "service_call_queued": _l("调用外部服务"), "service_call_done": _l("外部服务完成"),
    "service_call_retry": _l("外部服务重试"), "incident": _l("故障"), "incident_retry": _l("重试故障"),
    "suspended": _l("暂停"), "resumed": _l("恢复"), "terminated": _l("终止"), "completed": _l("办结"),
}


LEDGER_KINDS = {
    "owner_payment": _l("业主缴费"), "offline_deposit": _l("线下收费存入"), "bond_topup": _l("补缴保证金"),
    "disbursement": _l("季度拨付"), "year_end_release": _l("年终拨付"), "cut_infrastructure": _l("扣减：小区基础建设"),
    "cut_maintenance_fund": _l("扣减：维修资金统筹账户"), "adjustment": _l("调整"),
}
REQUEST_STATUSES = {"pending": _l("待审批"), "approved": _l("已批准"), "rejected": _l("不予拨付"), "paid": _l("已拨付"),
                    "failed": _l("支付失败")}
INSTRUCTION_STATUSES = {"created": _l("已生成"), "processing": _l("银行处理中"), "success": _l("已执行"),
                        "failed": _l("失败"), "returned": _l("退票")}

FILING_STATUSES = {"drafting": _l("待企业填报"), "demanded": _l("已督促备案"), "submitted": _l("待审核"),
                   "returned": _l("退回补正"), "accepted": _l("已备案"), "refused": _l("逾期或拒不备案")}
ENTERPRISE_FILING = {"unfiled": _l("未备案"), "pending": _l("备案中"), "filed": _l("已备案"), "refused": _l("拒不备案")}
RISK_STATUSES = {"none": _l("正常"), "proposed": _l("拟列入高风险"), "listed": _l("高风险管控")}
LISTING_STATUSES = {"drafting": _l("拟定建议"), "proposed": _l("待住建局审核"), "listed": _l("已列入"),
                    "rejected": _l("不予列入"), "removed": _l("已移出")}


def status_name(code: str) -> str:
    return str(STATUS_NAMES.get(code, code))


def event_name(code: str) -> str:
    return str(EVENT_NAMES.get(code, code))


def register_labels(app) -> None:
    from app.engine.calendar import deadline_warning
    app.jinja_env.globals.update(
        status_name=status_name, event_name=event_name, deadline_warning=deadline_warning,
        ledger_kind=lambda code: str(LEDGER_KINDS.get(code, code)),
        request_status=lambda code: str(REQUEST_STATUSES.get(code, code)),
        instruction_status=lambda code: str(INSTRUCTION_STATUSES.get(code, code)),
        filing_status=lambda code: str(FILING_STATUSES.get(code, code)),
        enterprise_filing=lambda code: str(ENTERPRISE_FILING.get(code, code)),
        risk_status=lambda code: str(RISK_STATUSES.get(code, code)),
        listing_status=lambda code: str(LISTING_STATUSES.get(code, code)))
