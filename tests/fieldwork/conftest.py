"""Fieldwork fixtures: two streets, two enterprises each serving a community, a pinned
clock (a Monday in September 2026, so deadlines in working days are known)."""
import io
from datetime import datetime

import pytest

from app.engine import calendar
from app.engine.calendar import SHANGHAI

# The smallest valid PNG (1×1 pixel): the attachments service checks the leading bytes.
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
MONDAY = datetime(2026, 9, 21, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock(app):
    calendar.set_clock(MONDAY)
    yield calendar.set_clock
    calendar.set_clock(None)


@pytest.fixture
def world(app, factory, clock):
    qianzhou = factory.street_office("乾州街道")
    donghe = factory.street_office("峒河街道")
    enterprise = factory.enterprise(name="吉首市乾元物业服务有限公司")
    other = factory.enterprise(name="湘西峒河物业管理有限公司")
    community = factory.community(enterprise=enterprise, street_office=qianzhou, name="世纪华庭")
    far = factory.community(enterprise=other, street_office=donghe, name="峒河湾")
    return {"street": qianzhou, "other_street": donghe, "enterprise": enterprise, "other_enterprise": other,
            "community": community, "far": far}


def inspection_form(community, *, rows=(), items=("环境卫生", "消防安全"), photos=(), **extra) -> dict:
    """The inspector's form as the browser posts it."""
    data = {"community_id": community.id, "inspected_on": "2026-09-21", "items": list(items), "note": "例行检查"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"findings-{i}-{key}"] = value
    if photos:
        data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    data.update(extra)
    return data


FINDING = {"item": "消防安全", "description": "3 栋消防通道堆放杂物", "points": "2.50", "days": "5"}
