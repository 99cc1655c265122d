"""Fee collection (policy 五(四)): the receivable roll, owner payments matched from the
escrow receipts, collection rates, the arrears list, reminder letters in rounds and the
owners' committee's urging.

Matching rule. Owners pay into the community's escrow account and write their room number
(房号, as on the roll, e.g. ``3-2-501``) in the payment's memo. A receipt of the year (an
owner payment or an offline deposit booked in that calendar year, Asia/Shanghai) belongs to
a household when exactly one room of the roll appears in its memo as a separate token
(tokens are split on blanks and punctuation; full-width dashes count as ``-``). A receipt
naming no room, or several, stays unmatched and is listed for the enterprise to correct.

The collection rate counts every receipt of the year, matched or not (it is money the
owners paid), against the receivable: the roll's total, or the community's annual
receivable fee while it has no roll.
"""
import re
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.engine.calendar import SHANGHAI, current_calendar, now
from app.extensions import db
from app.models import Community, EscrowAccount, FeeHousehold, FeeReminder, FeeRoll, FeeUrging, LedgerTxn
from app.permissions import READ_ALL_ROLES, reads_all, scoped
from app.services import audit, documents
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.escrow import parse_amount, to_fen
from app.services.long_jobs import runner
from app.services.tabular import read_table

RECEIPTS = ("owner_payment", "offline_deposit")
ROLL_COLUMNS = {"房号": "room", "业主姓名": "owner_name", "年物业费": "annual_fee", "联系电话": "phone"}
ROLL_REQUIRED = ("房号", "业主姓名", "年物业费")
REMINDER_WORKING_DAYS = 10  # the deadline a reminder letter gives (限期缴纳)
URGING_METHODS = {"visit": _l("上门督促"), "phone": _l("电话督促"), "meeting": _l("约谈"), "letter": _l("书面督促")}
URGING_OUTCOMES = {"promised": _l("承诺限期缴纳"), "paid": _l("已缴纳"), "refused": _l("拒绝缴纳"),
                   "unreachable": _l("未能联系")}
ZERO = Decimal("0.00")

# ---------------------------------------------------------------- who may do what

READERS = ("enterprise", "street_office", "owners_committee")  # besides the departments (reads_all)
READER_ROLES = tuple(sorted(READ_ALL_ROLES)) + READERS
IMPORTERS = ("housing_center", "enterprise")
REMINDERS = ("housing_center", "enterprise", "owners_committee")
URGERS = ("owners_committee",)


def may_read(user) -> bool:
    """Departments see every community; an enterprise its own, a street office its streets',
    an owners' committee its community (through `scoped`). Owners and banks see none."""
    return reads_all(user) or user.has_role(*READERS)


def visible_communities(user):
    if not may_read(user):
        return db.select(Community).where(db.false())
    return scoped(Community, user).order_by(Community.name)


def community_for(user, community_id: int) -> Community:
    community = db.session.scalar(visible_communities(user).where(Community.id == community_id))
    if community is None:
        raise NotFound(_("小区不存在。"))
    return community


def _ensure(user, community_id: int, roles: tuple) -> Community:
    community = community_for(user, community_id)
    if not user.has_role(*roles):
        raise Forbidden(_("您无权办理此项业务。"))
    return community


def may(user, what: str) -> bool:
    return user.has_role(*{"import": IMPORTERS, "remind": REMINDERS, "urge": URGERS}[what])


# ---------------------------------------------------------------- the roll

def normalise_room(text: str) -> str:
    return re.sub(r"[－—–‐]", "-", (text or "").strip()).upper()


def roll_of(community_id: int, year: int) -> FeeRoll | None:
    return db.session.scalar(db.select(FeeRoll).where(FeeRoll.community_id == community_id, FeeRoll.year == year))


def check_import(user, community_id: int, year: int) -> Community:
    community = _ensure(user, community_id, IMPORTERS)
    this_year = now().astimezone(SHANGHAI).year
    if not 2020 <= int(year) <= this_year + 1:
        raise ValidationFailed(_("年度须在 2020 至 %(max)d 之间。", max=this_year + 1),
                               {"year": _("年度须在 2020 至 %(max)d 之间。", max=this_year + 1)})
    return community


def parse_roll(filename: str, content: bytes, step=None) -> list[dict]:
    """The roll's rows, checked; any bad row refuses the whole file, each error named by
    its row number (the header is row 1)."""
    rows = read_table(filename, content, ROLL_COLUMNS, ROLL_REQUIRED)
    problems, seen, parsed = [], {}, []
    for number, row in enumerate(rows, start=2):
        if step and number % 500 == 0:
            step(5 + 45 * number // max(len(rows), 1), _("已检查 %(n)d / %(total)d 行", n=number - 1, total=len(rows)))
        room = normalise_room(row.get("room", ""))
        name = (row.get("owner_name") or "").strip()
        if not room:
            problems.append(_("第 %(n)d 行：缺少房号。", n=number))
            continue
        if len(room) > 50:
            problems.append(_("第 %(n)d 行：房号过长。", n=number))
            continue
        if room in seen:
            problems.append(_("第 %(n)d 行：房号“%(room)s”与第 %(m)d 行重复。", n=number, room=room, m=seen[room]))
            continue
        seen[room] = number
        if not name:
            problems.append(_("第 %(n)d 行：缺少业主姓名。", n=number))
        try:
            fee = parse_amount(row.get("annual_fee", ""), "annual_fee")
        except ValidationFailed as e:
            problems.append(_("第 %(n)d 行：年物业费有误（%(error)s）", n=number, error=e.message))
            continue
        parsed.append({"room": room, "owner_name": name[:100], "phone": (row.get("phone") or "")[:30],
                       "annual_fee": fee})
    if not rows:
        problems.append(_("名册中没有住户。"))
    if problems:
        shown = problems[:50] + ([_("……另有 %(n)d 处错误", n=len(problems) - 50)] if len(problems) > 50 else [])
        raise ValidationFailed(_("收费名册有误，未导入任何住户。"), {"file": "\n".join(shown)})
    return parsed


def import_roll(community: Community, year: int, rows: list[dict], actor, step=None) -> FeeRoll:
    """Create or update the roll: households are keyed by room; a room already on the roll
    takes the file's owner and fee, a new room is added, and none is removed (reminders and
    urging records stay attached to their households)."""
    roll = roll_of(community.id, year)
    if roll is None:
        roll = FeeRoll(community_id=community.id, year=year, imported_by_id=actor.id)
        db.session.add(roll)
        db.session.flush()
    existing = {h.room: h for h in roll.households}
    added = updated = 0
    for i, row in enumerate(rows, start=1):
        household = existing.get(row["room"])
        if household is None:
            db.session.add(FeeHousehold(roll_id=roll.id, **row))
            added += 1
        else:
            household.owner_name, household.phone, household.annual_fee = row["owner_name"], row["phone"], \
                row["annual_fee"]
            updated += 1
        if step and i % 500 == 0:
            step(50 + 45 * i // len(rows), _("已写入 %(n)d / %(total)d 户", n=i, total=len(rows)))
    roll.imported_by_id, roll.imported_at = actor.id, now()
    audit.record("fees.import_roll", roll, after={"community_id": community.id, "year": year, "added": added,
                                                  "updated": updated}, actor=actor)
    db.session.commit()
    return roll


@runner("fee_roll_import")
def import_job(job, step):
    """The long job: read the stored upload, check every row, then write."""
    from app.models import Attachment
    from app.services import attachments
    params = job.params
    upload = db.session.get(Attachment, params["attachment_id"])
    with open(attachments.path_of(upload), "rb") as source:
        content = source.read()
    step(5, _("检查名册"))
    rows = parse_roll(upload.filename, content, step)
    community = db.session.get(Community, params["community_id"])
    step(50, _("写入住户"))
    import_roll(community, int(params["year"]), rows, job.created_by, step)
    job.message = _("已导入 %(n)d 户", n=len(rows))
    return None


# ---------------------------------------------------------------- receipts and matching

def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=SHANGHAI), datetime(year + 1, 1, 1, tzinfo=SHANGHAI)


def receipts(community_id: int, year: int) -> list[LedgerTxn]:
    start, end = _year_bounds(year)
    accounts = db.select(EscrowAccount.id).where(EscrowAccount.community_id == community_id)
    return db.session.scalars(db.select(LedgerTxn).where(
        LedgerTxn.escrow_account_id.in_(accounts), LedgerTxn.kind.in_(RECEIPTS), LedgerTxn.booked_at >= start,
        LedgerTxn.booked_at < end).order_by(LedgerTxn.booked_at, LedgerTxn.id)).all()


TOKEN_SPLIT = re.compile(r"[\s,，;；:：/、()（）\[\]【】]+")


def match_room(memo: str, rooms: set[str]) -> str | None:
    """The one room of `rooms` the memo names as a token, or None (none or several)."""
    found = {token for token in (normalise_room(t) for t in TOKEN_SPLIT.split(memo or "")) if token in rooms}
    return found.pop() if len(found) == 1 else None


def matched(community_id: int, year: int) -> tuple[dict[str, Decimal], list[LedgerTxn]]:
    """({room: paid}, unmatched receipts) for the community's roll of the year."""
    roll = roll_of(community_id, year)
    rooms = {h.room for h in roll.households} if roll else set()
    paid, unmatched = defaultdict(lambda: ZERO), []
    for txn in receipts(community_id, year):
        room = match_room(txn.memo, rooms)
        if room is None:
            unmatched.append(txn)
        else:
            paid[room] += txn.amount
    return dict(paid), unmatched


def collection(community: Community, year: int) -> dict:
    """The community's figures for the year: receivable, received (all receipts), matched,
    unmatched, rate (percent, one decimal; None when nothing is receivable)."""
    roll = roll_of(community.id, year)
    receivable = to_fen(sum((h.annual_fee for h in roll.households), ZERO)) if roll else \
        (community.annual_receivable_fee or ZERO)
    paid, unmatched = matched(community.id, year)
    matched_total = to_fen(sum(paid.values(), ZERO))
    unmatched_total = to_fen(sum((t.amount for t in unmatched), ZERO))
    received = matched_total + unmatched_total
    return {"community": community, "year": year, "roll": roll, "receivable": receivable, "received": received,
            "matched": matched_total, "unmatched": unmatched_total, "unmatched_receipts": unmatched,
            "rate": rate(received, receivable)}


def rate(received: Decimal, receivable: Decimal) -> Decimal | None:
    return (received / receivable * 100).quantize(Decimal("0.1")) if receivable else None


def rates(communities, year: int) -> list[dict]:
    """collection() for each community, lowest rate first (the ones to look at)."""
    rows = [collection(c, year) for c in communities]
    return sorted(rows, key=lambda r: (r["rate"] is None, r["rate"] or 0))


# ---------------------------------------------------------------- arrears

def arrears(community: Community, year: int) -> list[dict]:
    """Households that owe part of their annual fee, the largest debt first, with their
    reminders and the last urging."""
    roll = roll_of(community.id, year)
    if roll is None:
        return []
    paid, _unmatched = matched(community.id, year)
    reminders = defaultdict(list)
    urgings = {}
    ids = [h.id for h in roll.households]
    for r in db.session.scalars(db.select(FeeReminder).where(FeeReminder.household_id.in_(ids))
                                .order_by(FeeReminder.round)):
        reminders[r.household_id].append(r)
    for u in db.session.scalars(db.select(FeeUrging).where(FeeUrging.household_id.in_(ids))
                                .order_by(FeeUrging.urged_on, FeeUrging.id)):
        urgings[u.household_id] = u
    rows = []
    for h in roll.households:
        got = to_fen(paid.get(h.room, ZERO))
        if got < h.annual_fee:
            rows.append({"household": h, "fee": h.annual_fee, "paid": got, "owed": h.annual_fee - got,
                         "reminders": reminders[h.id], "last_urging": urgings.get(h.id)})
    return sorted(rows, key=lambda r: (-r["owed"], r["household"].room))


def arrears_pdf(user, community_id: int, year: int) -> bytes:
    community = community_for(user, community_id)
    rows = arrears(community, year)
    return documents.render_pdf("documents/fee_arrears.html", community=community, year=year, rows=rows,
                                total=sum((r["owed"] for r in rows), ZERO), methods=URGING_METHODS,
                                outcomes=URGING_OUTCOMES)


# ---------------------------------------------------------------- reminders

def reminder_rounds(community_id: int, year: int) -> list[dict]:
    rows = db.session.execute(
        db.select(FeeReminder.round, db.func.count(FeeReminder.id), db.func.sum(FeeReminder.amount_due),
                  db.func.min(FeeReminder.sent_at))
        .join(FeeHousehold).join(FeeRoll).where(FeeRoll.community_id == community_id, FeeRoll.year == year)
        .group_by(FeeReminder.round).order_by(FeeReminder.round)).all()
    return [{"round": n, "count": count, "total": to_fen(Decimal(total)), "sent_at": sent} for n, count, total, sent
            in rows]


def _owing(user, community_id: int, year: int) -> tuple[Community, list[dict]]:
    community = _ensure(user, community_id, REMINDERS)
    owing = arrears(community, year)
    if not owing:
        raise ValidationFailed(_("没有欠费住户，无需催缴。"), {"round": _("没有欠费住户，无需催缴。")})
    return community, owing


def start_reminders(user, community_id: int, year: int, back: str = ""):
    """A round as a long job: a letter per household is a PDF to render, hundreds in a
    large community. Refused at once when no one is in arrears."""
    from app.services import long_jobs
    community, _owing_now = _owing(user, community_id, year)
    return long_jobs.start("fee_reminders", _("%(community)s%(year)d年物业费催缴", community=community.name, year=year),
                           user, community_id=community.id, year=int(year), back=back)


@runner("fee_reminders")
def reminders_job(job, step):
    number, count = issue_reminders(job.created_by, job.params["community_id"], int(job.params["year"]), step)
    job.message = _("已发出第 %(n)d 轮催缴通知书，共 %(count)d 份。", n=number, count=count)
    return None


def issue_reminders(user, community_id: int, year: int, step=None) -> tuple[int, int]:
    """A new round: a letter (PDF, through the documents service) to every household in
    arrears, and a message through the notifier to those with a phone number. Returns
    (round, letters); all or nothing (one transaction)."""
    from app.services import notify
    community, owing = _owing(user, community_id, year)
    number = len(reminder_rounds(community.id, year)) + 1
    today = now().astimezone(SHANGHAI).date()
    deadline = current_calendar().add_working_days(today, REMINDER_WORKING_DAYS).date
    sender = notify.notifier()
    for i, row in enumerate(owing, start=1):
        if step and i % 20 == 0:
            step(5 + 90 * i // len(owing), _("已生成 %(n)d / %(total)d 份", n=i, total=len(owing)))
        h = row["household"]
        letter = documents.generate(
            "documents/fee_reminder.html", f"{community.name}{h.room}物业服务费催缴通知书（第{number}轮）",
            kind="fee_reminder", actor=user, community=community, household=h, year=year, round=number,
            fee=row["fee"], paid=row["paid"], owed=row["owed"], deadline=deadline, issued_on=today)
        db.session.add(FeeReminder(household_id=h.id, round=number, amount_due=row["owed"], attachment_id=letter.id,
                                   sent_by_id=user.id))
        if h.phone:
            # To an owner, like the letter: Chinese whatever the sender's UI language.
            sender.send_to("sms", h.phone, "物业服务费催缴通知",
                           f"{h.owner_name}：您在{community.name} {h.room} 的{year}年物业服务费尚欠 {row['owed']:.2f} 元，"
                           f"请于 {deadline.isoformat()} 前缴纳。")
    audit.record("fees.reminders", community, after={"year": year, "round": number, "households": len(owing)},
                 actor=user)
    db.session.commit()
    return number, len(owing)


def reminder_for(user, reminder_id: int) -> FeeReminder:
    reminder = db.session.get(FeeReminder, reminder_id)
    if reminder is None:
        raise NotFound(_("催缴通知书不存在。"))
    community_for(user, reminder.household.roll.community_id)
    return reminder


# ---------------------------------------------------------------- urging

def record_urging(user, household_id: int, data: dict) -> FeeUrging:
    household = db.session.get(FeeHousehold, household_id) if household_id else None
    if household is None:
        raise ValidationFailed(_("请选择欠费住户。"), {"household_id": _("请选择欠费住户。")})
    _ensure(user, household.roll.community_id, URGERS)
    errors = {}
    urged_on = data.get("urged_on")
    if not isinstance(urged_on, date):
        errors["urged_on"] = _("请填写督促日期。")
    elif urged_on > now().astimezone(SHANGHAI).date():
        errors["urged_on"] = _("督促日期不能晚于今天。")
    if data.get("method") not in URGING_METHODS:
        errors["method"] = _("请选择督促方式。")
    if data.get("outcome") not in URGING_OUTCOMES:
        errors["outcome"] = _("请选择督促结果。")
    if errors:
        raise ValidationFailed(_("督促记录有误。"), errors)
    urging = FeeUrging(household_id=household.id, urged_by_id=user.id, urged_on=urged_on, method=data["method"],
                       outcome=data["outcome"], note=(data.get("note") or "").strip()[:2000])
    db.session.add(urging)
    db.session.flush()
    audit.record("fees.urging", urging, after={"household_id": household.id, "outcome": urging.outcome}, actor=user)
    db.session.commit()
    return urging


def urgings(community_id: int, year: int) -> list[FeeUrging]:
    return db.session.scalars(db.select(FeeUrging).join(FeeHousehold).join(FeeRoll).where(
        FeeRoll.community_id == community_id, FeeRoll.year == year)
        .order_by(FeeUrging.urged_on.desc(), FeeUrging.id.desc())).all()


def start_import(user, community_id: int, year: int, filename: str, content: bytes, back: str = ""):
    """Keep the upload and start the import as a long job (a large roll takes a while);
    the job checks every row before writing any."""
    from app.services import attachments, long_jobs
    community = check_import(user, community_id, year)
    if not content:
        raise ValidationFailed(_("文件是空的。"), {"file": _("文件是空的。")})
    upload = attachments.store_upload(filename, content, field="fee_roll", user=user)
    return long_jobs.start("fee_roll_import", _("导入%(community)s%(year)d年收费名册", community=community.name, year=year),
                           user, community_id=community.id, year=int(year), attachment_id=upload.id, back=back)


def seed_demo(community: Community, actor=None) -> None:
    """Demo data: this year's roll of the first demo community (once)."""
    year = now().astimezone(SHANGHAI).year
    if roll_of(community.id, year) is not None:
        return
    roll = FeeRoll(community_id=community.id, year=year, imported_by_id=getattr(actor, "id", None))
    db.session.add(roll)
    db.session.flush()
    for n in range(40):
        db.session.add(FeeHousehold(roll_id=roll.id, room=f"{n // 8 + 1}-{n % 2 + 1}-{n % 8 // 2 + 1}0{n % 2 + 1}",
                                    owner_name=f"业主{n + 1:02d}", phone=f"1397430{n:04d}" if n % 3 == 0 else "",
                                    annual_fee=Decimal(1800 + (n % 5) * 240)))
    db.session.commit()
