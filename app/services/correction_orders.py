"""The general correction order (整改通知书) the housing center issues after an inspection
or a filing review finds a problem (policy 三(六), 三(七); contracts have their own order,
documents/contract_correction_order.html). Rendered by the documents service and stored
on the case that issued it."""
from app.engine.calendar import SHANGHAI, current_calendar, now
from app.engine.registry import operator
from app.extensions import db
from app.models import Attachment, Community, Enterprise
from app.services import documents

DEFAULT_BASIS = "《吉首市物业服务企业治理监管实施方案》"


def issue(enterprise: Enterprise, findings: str, working_days: int, *, requirements: str = "",
          community: Community | None = None, basis: str = DEFAULT_BASIS, instance_id: int | None = None,
          actor=None) -> Attachment:
    """Render and store the order; the deadline is `working_days` Chinese working days from today."""
    today = now().astimezone(SHANGHAI).date()
    deadline = current_calendar().add_working_days(today, int(working_days)).date
    number = f"吉住保整〔{today.year}〕{enterprise.id:03d}-{today:%m%d}"
    return documents.generate(
        "documents/correction_order.html", f"{enterprise.name}整改通知书", kind="correction_order",
        instance_id=instance_id, actor=actor, enterprise=enterprise, community=community, findings=findings,
        requirements=requirements, basis=basis, deadline=deadline, number=number)


@operator("documents.correction_order", "生成整改通知书",
          params={"enterprise_id": "物业企业", "findings": "存在问题（每行一条）", "working_days": "整改期限（工作日）",
                  "community_id": "小区（可空）", "requirements": "整改要求"})
def correction_order_operator(ctx, enterprise_id: int, findings: str, working_days: int = 10,
                              community_id: int | None = None, requirements: str = "") -> dict:
    """For BPMN (an inspection or filing review): the order, stored on the case."""
    order = issue(db.session.get(Enterprise, int(enterprise_id)), findings, working_days,
                  community=db.session.get(Community, int(community_id)) if community_id else None,
                  requirements=requirements, instance_id=ctx.instance_id)
    return {"correction_order_id": order.id}
