"""Messages for users (new tasks, decisions, the daily overdue digest, …), shown on the dashboard
and handed to the notifier once their transaction has committed (`notify.deliver_pending`)."""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Notification(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = db.Column(db.String(40), nullable=False)  # digest | …
    title = db.Column(db.String(300), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    data = db.Column(db.JSON)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    read_at = db.Column(UTCDateTime())
    delivered_at = db.Column(UTCDateTime())  # handed to the notifier (email, SMS, …)

    __table_args__ = (
        # What the delivery job looks for: small, as rows leave it once handed over.
        db.Index("ix_notification_undelivered", "id", postgresql_where=db.text("delivered_at IS NULL"),
                 sqlite_where=db.text("delivered_at IS NULL")),
    )
