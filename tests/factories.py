"""Small factories for test data, going through the services like real input does."""
import itertools
from decimal import Decimal

from app.extensions import db
from app.models import Bank, DeviceSupplier, OwnersCommittee, StreetOffice
from app.roles import ORG_ROLES
from app.services import orgs, users
from app.services.demo import demo_id_number, demo_uscc

_seq = itertools.count(1)
PASSWORD = "Secret-pass-123"


class Factory:
    def n(self) -> int:
        return next(_seq)

    def street_office(self, name=None):
        office = StreetOffice(name=name or f"测试街道{self.n()}", district="吉首市")
        db.session.add(office)
        db.session.commit()
        return office

    def enterprise(self, name=None, **data):
        n = self.n()
        return orgs.create_enterprise({"name": name or f"测试物业公司{n}", "uscc": demo_uscc(100 + n), **data})

    def community(self, enterprise=None, street_office=None, fee="120000.00", **data):
        street_office = street_office or self.street_office()
        return orgs.create_community({
            "name": data.pop("name", f"测试小区{self.n()}"), "street_office_id": street_office.id,
            "enterprise_id": enterprise.id if enterprise else None, "households": 100,
            "annual_receivable_fee": Decimal(fee), **data})

    def bank(self):
        n = self.n()
        bank = Bank(name=f"测试银行{n}", code=f"TB{n}")
        db.session.add(bank)
        db.session.commit()
        return bank

    def supplier(self):
        n = self.n()
        supplier = DeviceSupplier(name=f"测试设备商{n}", uscc=demo_uscc(500 + n))
        db.session.add(supplier)
        db.session.commit()
        return supplier

    def committee(self, community=None):
        community = community or self.community()
        existing = db.session.scalar(db.select(OwnersCommittee).where(OwnersCommittee.community_id == community.id))
        if existing is not None:
            return existing
        committee = OwnersCommittee(community_id=community.id, name=f"{community.name}业委会")
        db.session.add(committee)
        db.session.commit()
        return committee

    def org_for(self, role):
        makers = {"enterprise": self.enterprise, "bank": self.bank, "device_supplier": self.supplier,
                  "owners_committee": self.committee, "street_office": self.street_office,
                  "owner": self.community}
        return makers[role]() if role in makers else None

    def user(self, role="housing_center", *, roles=None, org=None, username=None, password=PASSWORD):
        roles = roles or [role]
        org_role = next((r for r in roles if r in ORG_ROLES), None)
        if org_role and org is None:
            org = self.org_for(org_role)
        return users.create_user(username or f"{role}_{self.n()}", password, roles,
                                 org_id=org.id if org is not None else None)

    def person_id(self):
        return demo_id_number(self.n())
