"""People: responsible individuals, committee members, owners."""
from app.extensions import db
from app.models.base import TimestampMixin
from app.validators import mask, mask_phone


class Person(TimestampMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50), nullable=False)
    id_number = db.Column(db.String(18), unique=True, nullable=False)
    phone = db.Column(db.String(30), nullable=False, default="")

    @property
    def id_number_masked(self) -> str:
        return mask(self.id_number, 3, 4)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)
