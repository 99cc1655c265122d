"""Every role sees only what it must: reviewers and departments every contract; an
enterprise its own; a street office its communities'; an owners' committee its community's;
nobody else. The center files a developer's preliminary contract after the tender."""
import io

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import Contract
from tests.contracts.conftest import act, contract_form, open_task

pytestmark = pytest.mark.usefixtures("clock")


def file(client, community, **changes):
    return client.post("/contracts/new", data=contract_form(community, **changes), content_type="multipart/form-data")


def test_each_role_sees_only_its_contracts(world, login_as):
    mine = login_as("enterprise", org=world["enterprise"])
    theirs = login_as("enterprise", org=world["other_enterprise"])
    assert file(mine, world["community"]).status_code == 302
    assert file(theirs, world["far"], party_a="峒河湾业主委员会").status_code == 302
    ours, far = db.session.scalars(db.select(Contract).order_by(Contract.id)).all()

    def listed(client):
        page = client.get("/contracts/").get_data(as_text=True).split('data-testid="contracts"')[1]
        return {name for name in ("世纪华庭", "峒河湾") if name in page}

    assert listed(mine) == {"世纪华庭"} and listed(theirs) == {"峒河湾"}
    exported = load_workbook(io.BytesIO(mine.get("/contracts/?format=xlsx").data)).active
    assert [row[0] for row in exported.iter_rows(min_row=2, values_only=True)] == ["世纪华庭"]  # the export too
    for role in ("housing_center", "housing_bureau", "justice_bureau", "admin"):
        assert listed(login_as(role)) == {"世纪华庭", "峒河湾"}, role
    assert listed(login_as("street_office", org=world["street"])) == {"世纪华庭"}
    assert listed(login_as("street_office", org=world["other_street"])) == {"峒河湾"}
    assert listed(login_as("owners_committee", org=world["committee"])) == {"世纪华庭"}
    for role in ("owner", "bank", "device_supplier", "mediator", "natural_resources"):
        client = login_as(role)
        assert client.get("/contracts/").status_code == 403, role
        assert client.get(f"/contracts/{ours.id}").status_code == 403, role

    # Another enterprise can neither open the case's task nor its documents.
    task = open_task(ours.id, "review")
    assert theirs.get(f"/tasks/{task.id}").status_code == 404
    assert theirs.get(f"/cases/{ours.instance_id}").status_code == 404
    pdf = ours.round_rows[0].pdf_id
    assert theirs.get(f"/attachments/{pdf}").status_code == 404
    assert mine.get(f"/attachments/{pdf}").status_code == 200
    assert login_as("owners_committee", org=world["committee"]).get(f"/attachments/{pdf}").status_code == 200
    assert login_as("street_office", org=world["other_street"]).get(f"/attachments/{pdf}").status_code == 404

    # Only the housing center adds opinions; only the enterprise answers.
    for role in ("enterprise", "street_office", "owners_committee", "housing_bureau"):
        assert login_as(role).post(f"/contracts/{ours.id}/opinions", data={}).status_code == 403, role
    for role in ("housing_center", "street_office", "owners_committee"):
        assert login_as(role).post(f"/contracts/{ours.id}/opinions/1/answer", data={}).status_code == 403, role
    # The bureau reads the review but does not do it.
    bureau = login_as("housing_bureau")
    assert bureau.get(f"/tasks/{task.id}").status_code == 200
    assert act(bureau, task, decision="accept").status_code == 403
    assert open_task(ours.id, "review").id == task.id


def test_the_center_files_a_developers_preliminary_contract(world, login_as):
    center = login_as("housing_center")
    regular = file(center, world["second"], kind="regular", party_a="湘西房地产开发有限公司")
    assert regular.status_code == 422 and "只能是前期物业服务合同" in regular.get_data(as_text=True)
    no_tender = file(center, world["second"], kind="preliminary", party_a="湘西房地产开发有限公司")
    assert "须填写中标通知书编号" in no_tender.get_data(as_text=True)
    assert file(center, world["second"], kind="preliminary", party_a="湘西房地产开发有限公司",
                tender_ref="JSZB-2025-031").status_code == 302
    contract = db.session.scalar(db.select(Contract))
    assert contract.submitted_by == "developer" and contract.kind == "preliminary"
    assert contract.enterprise_id == world["enterprise"].id and contract.template.kind == "preliminary"
    enterprise = login_as("enterprise", org=world["enterprise"])
    page = enterprise.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert "住保中心代建设单位报送" in page and "JSZB-2025-031" in page
