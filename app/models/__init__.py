"""All models, imported here so Alembic and the app see one metadata."""
from app.models.audit import AuditChainHead, AuditEvent
from app.models.case import Attachment, CaseComment, Substitute
from app.models.engine import (CalendarDay, CalendarYear, HumanTask, InstanceEvent, MessageSubscription, ProcessInstance,
                               ProcessModel, ProcessModelVersion, ServiceCall)
from app.models.org import Bank, Community, Department, DeviceSupplier, Enterprise, OwnersCommittee, StreetOffice
from app.models.contracts import Contract, ContractRound, ContractTemplate, RevisionOpinion, TemplateClause
from app.models.disputes import Dispute, HotlineReply, MediationSession, StreetMediator
from app.models.escrow import (BankInstruction, CenterHead, DisbursementRequest, EscrowAccount, EscrowAgreement,
                               LedgerEntry, LedgerTxn)
from app.models.filing import EnterpriseFiling, HighRiskListing, HighRiskPerson
from app.models.integration import IntegrationNonce
from app.models.modeler import ModelDraft, ModelTrial
from app.models.notification import Notification
from app.models.long_job import LongJob
from app.models.jobs import JobOutbox
from app.models.people import Person
from app.models.records import CreditRecord, Disclosure
from app.models.takeover import EmergencyTakeover, StreetOfficeHead, TakeoverCandidate
from app.models.user import ApiToken, User, UserRole

__all__ = [
    "ApiToken", "Attachment", "AuditEvent", "BankInstruction", "CenterHead", "DisbursementRequest", "EscrowAccount",
    "EscrowAgreement", "EnterpriseFiling", "HighRiskListing", "HighRiskPerson", "LedgerEntry", "LedgerTxn", "CaseComment", "CreditRecord", "Disclosure", "Substitute", "CalendarDay", "CalendarYear", "HumanTask", "InstanceEvent", "IntegrationNonce", "Notification", "MessageSubscription",
    "ProcessInstance", "ProcessModel", "ProcessModelVersion", "ServiceCall", "Bank", "Community", "Department", "DeviceSupplier",
    "Enterprise", "OwnersCommittee", "Person", "StreetOffice", "User", "UserRole",
]
__all__ += ["Dispute", "HotlineReply", "MediationSession", "StreetMediator"]
__all__ += ["LongJob"]
__all__ += ["AuditChainHead", "JobOutbox"]
__all__ += ["Contract", "ContractRound", "ContractTemplate", "RevisionOpinion", "TemplateClause"]
__all__ += ["EmergencyTakeover", "StreetOfficeHead", "TakeoverCandidate"]
from app.models.devices import (BuildPlan, BuildPlanItem, Device, DeviceDailySummary, DeviceEvent,  # noqa: E402
                                DevicePlatformSync, DeviceStatusPeriod, RepairCase, Repayment, RepaymentPayment,
                                SupplierRecord, UnknownDeviceEvent)

__all__ += ["BuildPlan", "BuildPlanItem", "Device", "DeviceDailySummary", "DeviceEvent", "DevicePlatformSync",
            "DeviceStatusPeriod", "RepairCase", "Repayment", "RepaymentPayment", "SupplierRecord"]
__all__ += ["UnknownDeviceEvent"]
__all__ += ["ModelDraft", "ModelTrial"]
from app.models.evaluation import (Evaluation, EvaluationObjection, EvaluationScore, ScoringItem,  # noqa: E402
                                   ScoringSection, ScoringStandard)

__all__ += ["Evaluation", "EvaluationObjection", "EvaluationScore", "ScoringItem", "ScoringSection", "ScoringStandard"]
from app.models.inspections import Inspection, InspectionFinding, InspectionPhoto  # noqa: E402
from app.models.surveys import SatisfactionSurvey, SurveyAnswer, SurveyHousehold  # noqa: E402

__all__ += ["Inspection", "InspectionFinding", "InspectionPhoto", "SatisfactionSurvey", "SurveyAnswer",
            "SurveyHousehold"]
from app.models.fees import FeeHousehold, FeeReminder, FeeRoll, FeeUrging  # noqa: E402

__all__ += ["FeeHousehold", "FeeReminder", "FeeRoll", "FeeUrging"]
