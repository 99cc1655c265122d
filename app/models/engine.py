"""Workflow engine tables: process models and versions, instances with their serialized
state, the human-task inbox projection, the instance timeline, external service calls,
message subscriptions and the working-day calendar."""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow

BigId = db.BigInteger().with_variant(db.Integer, "sqlite")


class ProcessModel(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    key = db.Column(db.String(80), unique=True, nullable=False)  # e.g. "filing" (bpmn/filing.bpmn)
    name = db.Column(db.String(200), nullable=False, default="")
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    versions = db.relationship("ProcessModelVersion", back_populates="model", order_by="ProcessModelVersion.number")


class ProcessModelVersion(db.Model):
    """One version of a model: its BPMN and DMN sources, and the parsed spec serialized once."""

    id = db.Column(db.Integer, primary_key=True)
    model_id = db.Column(db.Integer, db.ForeignKey("process_model.id"), nullable=False)
    number = db.Column(db.Integer, nullable=False)
    process_id = db.Column(db.String(120), nullable=False)  # the executable BPMN process id
    # The sources and the parsed spec are large: loaded only when asked for (deferred).
    bpmn_xml = db.deferred(db.Column(db.Text, nullable=False))
    dmn_files = db.deferred(db.Column(db.JSON, nullable=False, default=dict))  # {filename: xml}
    checksum = db.Column(db.String(64), nullable=False)
    spec_json = db.deferred(db.Column(db.JSON))  # serialized spec + subprocess specs, shared by all instances
    status = db.Column(db.String(20), nullable=False, default="draft")  # draft | deployed | retired
    note = db.Column(db.String(500), nullable=False, default="")
    author_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    deployed_at = db.Column(UTCDateTime())

    model = db.relationship("ProcessModel", back_populates="versions", lazy="joined")  # tiny; shown with the version
    author = db.relationship("User")

    __table_args__ = (db.UniqueConstraint("model_id", "number"),)


class ProcessInstance(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    version_id = db.Column(db.Integer, db.ForeignKey("process_model_version.id"), nullable=False, index=True)
    model_key = db.Column(db.String(80), nullable=False, index=True)
    business_key = db.Column(db.String(120), nullable=False, default="", index=True)
    title = db.Column(db.String(300), nullable=False, default="")
    # The domain object the case concerns, and the organisations it belongs to (for scoping).
    subject_type = db.Column(db.String(60), nullable=False, default="")
    subject_id = db.Column(db.Integer)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), index=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), index=True)
    street_office_id = db.Column(db.Integer, db.ForeignKey("street_office.id"), index=True)
    bank_id = db.Column(db.Integer, db.ForeignKey("bank.id"), index=True)
    device_supplier_id = db.Column(db.Integer, db.ForeignKey("device_supplier.id"))
    # running | waiting | completed | error | suspended | terminated
    status = db.Column(db.String(20), nullable=False, default="running", index=True)
    # SpiffWorkflow state without the spec: loaded only by the engine (`runtime` undefers it),
    # not by the lists, inbox rows and case pages that show an instance's columns.
    state = db.deferred(db.Column(db.JSON, nullable=False))
    serializer_version = db.Column(db.String(10), nullable=False)
    lock_version = db.Column(db.Integer, nullable=False, default=1)
    next_timer_at = db.Column(UTCDateTime())
    incident = db.Column(db.Text)  # what went wrong, while status is error
    incident_task = db.Column(db.String(200))
    started_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    started_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    ended_at = db.Column(UTCDateTime())
    end_reason = db.Column(db.String(500))

    version = db.relationship("ProcessModelVersion")
    started_by = db.relationship("User")

    __mapper_args__ = {"version_id_col": lock_version}
    __table_args__ = (db.Index("ix_process_instance_due_timer", "next_timer_at"),)


class HumanTask(db.Model):
    """Inbox projection of a ready user task, kept in step at every save of its instance."""

    id = db.Column(BigId, primary_key=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"), nullable=False, index=True)
    task_uuid = db.Column(db.String(36), nullable=False, unique=True)
    spec_id = db.Column(db.String(120), nullable=False)
    name = db.Column(db.String(200), nullable=False)
    lane = db.Column(db.String(100), nullable=False, default="")
    role = db.Column(db.String(40), nullable=False)
    form_key = db.Column(db.String(120), nullable=False, default="")
    title = db.Column(db.String(300), nullable=False, default="")
    model_key = db.Column(db.String(80), nullable=False)
    enterprise_id = db.Column(db.Integer)
    community_id = db.Column(db.Integer)
    street_office_id = db.Column(db.Integer)
    bank_id = db.Column(db.Integer)
    device_supplier_id = db.Column(db.Integer)
    status = db.Column(db.String(20), nullable=False, default="open")  # open | completed | cancelled
    claimed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    claimed_at = db.Column(UTCDateTime())
    due_at = db.Column(UTCDateTime())
    draft = db.Column(db.JSON)  # a saved, not yet submitted form
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    completed_at = db.Column(UTCDateTime())
    completed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    overdue_notified_at = db.Column(UTCDateTime())  # when its users were told it is overdue (app/services/notify.py)
    completed_for_id = db.Column(db.Integer, db.ForeignKey("user.id"))  # substitute acted for this user
    completed_data = db.Column(db.JSON)

    instance = db.relationship("ProcessInstance")
    claimed_by = db.relationship("User", foreign_keys=[claimed_by_id])
    completed_by = db.relationship("User", foreign_keys=[completed_by_id])

    __table_args__ = (
        db.Index("ix_human_task_open_role", "status", "role", "created_at"),
        db.Index("ix_human_task_claimed", "claimed_by_id", "status"),
        db.Index("ix_human_task_completed_by", "completed_by_id", "completed_at"),
        db.Index("ix_human_task_completed_for", "completed_for_id", "completed_at"),  # the "done" tab's OR
        db.Index("ix_human_task_open_enterprise", "enterprise_id", "status", "role", "created_at"),  # an enterprise's inbox
        db.Index("ix_human_task_todo", "status", "role", "claimed_by_id", "created_at"),  # todo tab, index only
        db.Index("ix_human_task_model_key", "model_key"),  # the filter bar's distinct values (loose index scan)
        db.Index("ix_human_task_name", "name"),
    )


class InstanceEvent(db.Model):
    """The case timeline: started, task completed (by whom, with what), timer fired, …"""

    id = db.Column(BigId, primary_key=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"), nullable=False, index=True)
    at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    kind = db.Column(db.String(40), nullable=False)
    task_spec = db.Column(db.String(120), nullable=False, default="")
    task_name = db.Column(db.String(200), nullable=False, default="")
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    on_behalf_of_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    data = db.Column(db.JSON)
    message = db.Column(db.Text, nullable=False, default="")

    actor = db.relationship("User", foreign_keys=[actor_id])
    on_behalf_of = db.relationship("User", foreign_keys=[on_behalf_of_id])


class ServiceCall(db.Model):
    """An external service task's call (bank, device platform), run by a worker job.

    Its id is the idempotency key passed to the operator, so a retried or duplicated job
    never repeats an effect outside (the bank refuses a repeated reference)."""

    id = db.Column(db.Integer, primary_key=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"), nullable=False, index=True)
    task_uuid = db.Column(db.String(36), nullable=False, unique=True)
    task_name = db.Column(db.String(200), nullable=False, default="")
    operator = db.Column(db.String(120), nullable=False)
    params = db.Column(db.JSON, nullable=False)
    status = db.Column(db.String(20), nullable=False, default="pending")  # pending | running | succeeded | failed
    attempts = db.Column(db.Integer, nullable=False, default=0)
    max_attempts = db.Column(db.Integer, nullable=False, default=3)
    last_error = db.Column(db.Text)
    result = db.Column(db.JSON)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (db.Index("ix_service_call_status", "status", "updated_at"),)


class MessageSubscription(db.Model):
    """An instance waiting for a message, projected at save so delivery needs no scan."""

    id = db.Column(BigId, primary_key=True)
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id", ondelete="CASCADE"), nullable=False,
                            index=True)
    message_name = db.Column(db.String(120), nullable=False)
    correlation_key = db.Column(db.String(120), nullable=False)

    __table_args__ = (db.Index("ix_message_subscription_lookup", "message_name", "correlation_key"),)


class CalendarDay(db.Model):
    """A statutory holiday or adjusted working day (调休), seeded from chinesecalendar
    and extended by an administrator when the State Council publishes the next year."""

    day = db.Column(db.Date, primary_key=True)
    is_workday = db.Column(db.Boolean, nullable=False)
    name = db.Column(db.String(60), nullable=False, default="")


class CalendarYear(db.Model):
    """Years whose official holiday data is complete."""

    year = db.Column(db.Integer, primary_key=True)
    source = db.Column(db.String(60), nullable=False, default="")
