"""Smart devices of the communities (policy attachment 1, art. 六 and 七(四)): the registry,
the raw events from the device platform, status history and daily summaries, repair cases
(a fault is repaired within 24 hours), the supplier's record, and the smart-community build
plans the bank finances (the bank owns the devices until the enterprise has repaid).

A platform event id is unique: an event pushed and polled, or pushed twice, is kept once.
"""
from app.extensions import db
from app.models.base import Money, UTCDateTime, utcnow

BigId = db.BigInteger().with_variant(db.Integer, "sqlite")


class Device(db.Model):
    """One device of a community, known to the platform by its serial."""

    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    supplier_id = db.Column(db.Integer, db.ForeignKey("device_supplier.id"), nullable=False, index=True)
    kind = db.Column(db.String(20), nullable=False)  # elevator | access | video | staff
    serial = db.Column(db.String(64), nullable=False, unique=True)
    model = db.Column(db.String(100), nullable=False, default="")
    location = db.Column(db.String(200), nullable=False, default="")
    installed_on = db.Column(db.Date, nullable=False)
    warranty_until = db.Column(db.Date)  # end of the supplier's maintenance period (维保期)
    # Owner of record: the bank until the build cost is repaid, then the enterprise.
    owner = db.Column(db.String(20), nullable=False, default="enterprise")  # bank | enterprise
    owner_bank_id = db.Column(db.Integer, db.ForeignKey("bank.id"))
    build_plan_id = db.Column(db.Integer, db.ForeignKey("build_plan.id"), index=True)
    status = db.Column(db.String(20), nullable=False, default="offline")  # online | offline | fault | retired
    status_since = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    last_seen_at = db.Column(UTCDateTime())  # the last heartbeat or event from the device
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    community = db.relationship("Community")
    supplier = db.relationship("DeviceSupplier")
    owner_bank = db.relationship("Bank")
    build_plan = db.relationship("BuildPlan", back_populates="devices")


class DeviceEvent(db.Model):
    """A raw event from the platform, kept for the retention period (then only the daily
    summaries remain). `event_id` is the platform's id: the key of exactly-once ingestion."""

    id = db.Column(BigId, primary_key=True)
    event_id = db.Column(db.String(64), nullable=False, unique=True)
    device_id = db.Column(db.Integer, db.ForeignKey("device.id", ondelete="CASCADE"), nullable=False)
    community_id = db.Column(db.Integer, nullable=False)  # denormalised for the daily summaries
    kind = db.Column(db.String(30), nullable=False)
    occurred_at = db.Column(UTCDateTime(), nullable=False)
    received_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    via = db.Column(db.String(10), nullable=False, default="push")  # push | poll
    data = db.Column(db.JSON)

    device = db.relationship("Device")

    __table_args__ = (db.Index("ix_device_event_device_time", "device_id", "occurred_at"),
                      db.Index("ix_device_event_community_time", "community_id", "occurred_at"))


class UnknownDeviceEvent(db.Model):
    """An event the platform sent for a serial that is not registered here (or is retired):
    kept, not dropped, for the housing center to see; registering the device takes its
    events over into DeviceEvent. Keyed on the platform's event id like DeviceEvent."""

    id = db.Column(BigId, primary_key=True)
    event_id = db.Column(db.String(64), nullable=False, unique=True)
    serial = db.Column(db.String(64), nullable=False, index=True)
    kind = db.Column(db.String(30), nullable=False)
    occurred_at = db.Column(UTCDateTime(), nullable=False)
    received_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    via = db.Column(db.String(10), nullable=False, default="push")  # push | poll
    data = db.Column(db.JSON)


class DeviceStatusPeriod(db.Model):
    """A stretch of time a device spent in one status (open while `ended_at` is None):
    availability is the online share of the day."""

    id = db.Column(BigId, primary_key=True)
    device_id = db.Column(db.Integer, db.ForeignKey("device.id", ondelete="CASCADE"), nullable=False)
    status = db.Column(db.String(20), nullable=False)
    started_at = db.Column(UTCDateTime(), nullable=False)
    ended_at = db.Column(UTCDateTime())

    __table_args__ = (db.Index("ix_device_status_period_device", "device_id", "started_at"),)


class DeviceDailySummary(db.Model):
    """One community's devices on one day (Asia/Shanghai): recomputed idempotently."""

    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False)
    day = db.Column(db.Date, nullable=False)
    devices = db.Column(db.Integer, nullable=False, default=0)
    availability = db.Column(db.Numeric(5, 2))  # % of device time online; None without devices
    faults = db.Column(db.Integer, nullable=False, default=0)
    events = db.Column(db.Integer, nullable=False, default=0)
    staff_checkins = db.Column(db.Integer, nullable=False, default=0)
    staff_present = db.Column(db.Integer, nullable=False, default=0)  # distinct staff who checked in
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    community = db.relationship("Community")

    __table_args__ = (db.UniqueConstraint("community_id", "day"),)


class DevicePlatformSync(db.Model):
    """Where polling of the platform stands: the event cursor and the last contact."""

    name = db.Column(db.String(40), primary_key=True)  # "events"
    cursor = db.Column(db.String(100), nullable=False, default="0")
    last_success_at = db.Column(UTCDateTime())
    last_attempt_at = db.Column(UTCDateTime())
    last_error = db.Column(db.Text)


class RepairCase(db.Model):
    """A device fault: the supplier repairs within 24 hours of the fault, the device must
    report healthy again; later than that the case escalates to the housing center."""

    id = db.Column(db.Integer, primary_key=True)
    device_id = db.Column(db.Integer, db.ForeignKey("device.id"), nullable=False, index=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), index=True)
    supplier_id = db.Column(db.Integer, db.ForeignKey("device_supplier.id"), nullable=False, index=True)
    fault_kind = db.Column(db.String(30), nullable=False)
    fault_event_id = db.Column(db.String(64))  # the platform's event id (None: detected offline here)
    fault_at = db.Column(UTCDateTime(), nullable=False)
    deadline_at = db.Column(UTCDateTime(), nullable=False)
    # open (awaiting repair) | repaired (awaiting the device's healthy report) | closed
    status = db.Column(db.String(20), nullable=False, default="open")
    repaired_at = db.Column(UTCDateTime())
    repaired_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    repair_note = db.Column(db.Text, nullable=False, default="")
    parts = db.Column(db.String(300), nullable=False, default="")
    healthy_at = db.Column(UTCDateTime())
    closed_at = db.Column(UTCDateTime())
    escalated_at = db.Column(UTCDateTime())
    overdue = db.Column(db.Boolean, nullable=False, default=False)
    instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    # The device's id while the case is open: one open repair per device.
    open_key = db.Column(db.Integer, unique=True)

    device = db.relationship("Device")
    community = db.relationship("Community")
    enterprise = db.relationship("Enterprise")
    supplier = db.relationship("DeviceSupplier")
    repaired_by = db.relationship("User")


class SupplierRecord(db.Model):
    """The device supplier's record (its counterpart of the enterprise credit file): late
    repairs and other findings, each with points and a validity period."""

    id = db.Column(db.Integer, primary_key=True)
    supplier_id = db.Column(db.Integer, db.ForeignKey("device_supplier.id"), nullable=False, index=True)
    kind = db.Column(db.String(40), nullable=False)  # repair_overdue …
    title = db.Column(db.String(300), nullable=False)
    detail = db.Column(db.Text, nullable=False, default="")
    points = db.Column(db.Numeric(8, 2))
    source_instance_id = db.Column(db.Integer, db.ForeignKey("process_instance.id"))
    repair_case_id = db.Column(db.Integer, db.ForeignKey("repair_case.id"))
    recorded_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    valid_until = db.Column(db.Date)

    supplier = db.relationship("DeviceSupplier")


class BuildPlan(db.Model):
    """A smart-community build plan (智慧化小区建设方案, art. 六): the supplier proposes it for
    a community, the enterprise agrees, the bank advances the cost, the enterprise repays in
    instalments; the devices belong to the bank until repaid. Within a year of the advance
    the enterprise may end device use: the bank removes the devices, supervision goes on."""

    id = db.Column(db.Integer, primary_key=True)
    community_id = db.Column(db.Integer, db.ForeignKey("community.id"), nullable=False, index=True)
    enterprise_id = db.Column(db.Integer, db.ForeignKey("enterprise.id"), nullable=False, index=True)
    supplier_id = db.Column(db.Integer, db.ForeignKey("device_supplier.id"), nullable=False, index=True)
    bank_id = db.Column(db.Integer, db.ForeignKey("bank.id"), nullable=False, index=True)
    title = db.Column(db.String(200), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    cost = db.Column(Money, nullable=False)
    instalments = db.Column(db.Integer, nullable=False)  # monthly repayments
    # proposed | agreed | rejected | advanced | termination_requested | repaid | terminated
    status = db.Column(db.String(30), nullable=False, default="proposed")
    proposed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    proposed_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    agreed_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    agreed_at = db.Column(UTCDateTime())
    decision_note = db.Column(db.Text, nullable=False, default="")
    advanced_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    advanced_on = db.Column(db.Date)
    advance_reference = db.Column(db.String(64), unique=True)  # the bank's payment to the supplier
    repaid_on = db.Column(db.Date)
    termination_reason = db.Column(db.Text, nullable=False, default="")
    termination_requested_at = db.Column(UTCDateTime())
    terminated_on = db.Column(db.Date)
    lock_version = db.Column(db.Integer, nullable=False, default=1)

    community = db.relationship("Community")
    enterprise = db.relationship("Enterprise")
    supplier = db.relationship("DeviceSupplier")
    bank = db.relationship("Bank")
    items = db.relationship("BuildPlanItem", back_populates="plan", order_by="BuildPlanItem.id",
                            cascade="all, delete-orphan")
    repayments = db.relationship("Repayment", back_populates="plan", order_by="Repayment.seq",
                                 cascade="all, delete-orphan")
    payments = db.relationship("RepaymentPayment", back_populates="plan", order_by="RepaymentPayment.id")
    devices = db.relationship("Device", back_populates="build_plan")

    __mapper_args__ = {"version_id_col": lock_version}


class BuildPlanItem(db.Model):
    """A line of the plan: so many devices of a kind at a unit price."""

    id = db.Column(db.Integer, primary_key=True)
    plan_id = db.Column(db.Integer, db.ForeignKey("build_plan.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = db.Column(db.String(20), nullable=False)
    model = db.Column(db.String(100), nullable=False, default="")
    quantity = db.Column(db.Integer, nullable=False)
    unit_price = db.Column(Money, nullable=False)

    plan = db.relationship("BuildPlan", back_populates="items")


class Repayment(db.Model):
    """One instalment of the repayment schedule."""

    id = db.Column(db.Integer, primary_key=True)
    plan_id = db.Column(db.Integer, db.ForeignKey("build_plan.id", ondelete="CASCADE"), nullable=False)
    seq = db.Column(db.Integer, nullable=False)
    due_on = db.Column(db.Date, nullable=False)
    amount = db.Column(Money, nullable=False)
    paid = db.Column(Money, nullable=False, default=0)
    status = db.Column(db.String(20), nullable=False, default="due")  # due | paid | cancelled

    plan = db.relationship("BuildPlan", back_populates="repayments")

    __table_args__ = (db.UniqueConstraint("plan_id", "seq"),)


class RepaymentPayment(db.Model):
    """A repayment the bank received; its reference is unique, so it is booked once."""

    id = db.Column(db.Integer, primary_key=True)
    plan_id = db.Column(db.Integer, db.ForeignKey("build_plan.id", ondelete="CASCADE"), nullable=False, index=True)
    amount = db.Column(Money, nullable=False)
    paid_on = db.Column(db.Date, nullable=False)
    reference = db.Column(db.String(64), nullable=False, unique=True)
    recorded_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    recorded_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    plan = db.relationship("BuildPlan", back_populates="payments")
