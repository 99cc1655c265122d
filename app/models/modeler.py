"""The browser modeler's own records: one working draft per process model, and sandbox
test runs of a draft.

A draft never touches running cases: it is a copy of a version's BPMN (and DMN) that
process managers edit and autosave; deploying it makes a new `ProcessModelVersion`.
Two managers saving the same draft: the second save names the lock version it loaded,
finds a newer one and is refused (optimistic locking, as for process instances).

A trial is a throw-away instance of a draft run in the sandbox: its state lives here,
never in process_instance or the inbox, and service tasks call no outside system.
"""
from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class ModelDraft(db.Model):
    __tablename__ = "process_model_draft"

    id = db.Column(db.Integer, primary_key=True)
    model_id = db.Column(db.Integer, db.ForeignKey("process_model.id", ondelete="CASCADE"), nullable=False,
                         unique=True)
    bpmn_xml = db.deferred(db.Column(db.Text, nullable=False))
    dmn_files = db.deferred(db.Column(db.JSON, nullable=False, default=dict))  # {filename: xml}
    base_version_id = db.Column(db.Integer, db.ForeignKey("process_model_version.id"))  # the version it started from
    lock_version = db.Column(db.Integer, nullable=False, default=1)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    model = db.relationship("ProcessModel")
    base_version = db.relationship("ProcessModelVersion")
    updated_by = db.relationship("User")

    __mapper_args__ = {"version_id_col": lock_version}


class ModelTrial(db.Model):
    """A sandbox run of a draft: the serialized workflow (spec included) and its log."""

    __tablename__ = "process_model_trial"

    id = db.Column(db.Integer, primary_key=True)
    model_id = db.Column(db.Integer, db.ForeignKey("process_model.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    checksum = db.Column(db.String(64), nullable=False)  # of the draft content it runs
    state = db.Column(db.JSON, nullable=False)
    log = db.Column(db.JSON, nullable=False, default=list)  # [{"at", "kind", "task", "message", "data"}]
    status = db.Column(db.String(20), nullable=False, default="running")  # running | completed | error
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    model = db.relationship("ProcessModel")
