"""Events from the device platform: pushed to us (signed) and polled by cursor, stored once
per platform event id, turned into device status (online, fault, healthy again), offline
detection when heartbeats stop, per-community daily summaries and retention.

Exactly once: an event is inserted with ON CONFLICT (event_id) DO NOTHING and only the rows
actually inserted have effects, so a push and a poll of the same event, a platform resend
or two workers at once never double anything. Polling keeps its cursor in the database and
moves it only after the page it read is committed: the platform down for an hour means the
next poll reads from where it stopped. An event of a serial not registered here is kept
apart (UnknownDeviceEvent) and the rest of its push or page is stored: nothing is lost.
"""
import json
import logging
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import gettext as _

from app.engine.calendar import now
from app.extensions import db, insert_or_skip
from app.integrations.devices import DevicePlatformUnavailable, client_from_config
from app.models import (Community, Device, DeviceDailySummary, DeviceEvent, DevicePlatformSync, DeviceStatusPeriod,
                        RepairCase, UnknownDeviceEvent)
from app.models.base import utcnow
from app.services import audit
from app.services.devices import (EVENT_KINDS, FAULT_KINDS, SHANGHAI, OpenRecords, among, fault, healthy,
                                  open_repair_case, set_status)
from app.services.errors import ValidationFailed

log = logging.getLogger(__name__)
MAX_BATCH = 1000
FUTURE_TOLERANCE = timedelta(minutes=10)
STATUS_KINDS = FAULT_KINDS | {"heartbeat", "recovered"}
# Events move a device's last_seen_at only when it advances by this much: a chatty device
# then costs a row update a minute instead of one per event (most of a batch's database
# work). Offline detection allows for the step, so no device is judged offline early.
LAST_SEEN_STEP = timedelta(minutes=1)


def _config(name: str, default):
    return current_app.config.get(name, default)


# ---------------------------------------------------------------- validating events

def _parse_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else None  # a time without its zone is ambiguous: refused


def clean_events(body) -> list[dict]:
    """The events of a push or a polled page, checked: a JSON object with `events` (a list),
    or one event. Each has event_id, device_serial, a known type, an ISO-8601 time with its
    zone, and optional `data` (an object). Any bad event refuses the whole request."""
    items = body.get("events") if isinstance(body, dict) and "events" in body else [body]
    if not isinstance(items, list) or not items:
        raise ValidationFailed(_("事件格式不正确。"), {"events": _("须为事件对象或非空的事件列表。")})
    if len(items) > MAX_BATCH:
        raise ValidationFailed(_("事件格式不正确。"), {"events": _("每次最多 %(n)d 个事件。", n=MAX_BATCH)})
    errors, rows = {}, []
    latest = now() + FUTURE_TOLERANCE
    for i, item in enumerate(items):
        where = f"events[{i}]"
        if not isinstance(item, dict):
            errors[where] = _("须为 JSON 对象。")
            continue
        event_id, serial = item.get("event_id"), item.get("device_serial")
        kind, at, data = item.get("type"), _parse_time(item.get("occurred_at")), item.get("data")
        if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 64:
            errors[f"{where}.event_id"] = _("缺少事件编号（不超过 64 个字符）。")
        if not isinstance(serial, str) or not serial.strip() or len(serial) > 64:
            errors[f"{where}.device_serial"] = _("缺少设备序列号。")
        if kind not in EVENT_KINDS or kind == "offline":
            errors[f"{where}.type"] = _("未知的事件类型。")
        if at is None:
            errors[f"{where}.occurred_at"] = _("须为带时区的 ISO-8601 时间，如 2026-05-01T09:30:00+08:00。")
        elif at > latest:
            errors[f"{where}.occurred_at"] = _("事件时间晚于当前时间。")
        if data is not None and not isinstance(data, dict):
            errors[f"{where}.data"] = _("须为 JSON 对象。")
        if not any(k.startswith(where) for k in errors):
            rows.append({"event_id": event_id.strip(), "serial": serial.strip(), "kind": kind,
                         "occurred_at": at.astimezone(timezone.utc), "data": data or None})
    if errors:
        raise ValidationFailed(_("事件格式不正确，未接收任何事件。"), errors)
    return rows


def device_map(serials) -> dict[str, tuple[int, int]]:
    """serial → (device id, community id) for the known, not retired devices."""
    rows = db.session.execute(db.select(Device.serial, Device.id, Device.community_id).where(
        among(Device.serial, set(serials), db.String), Device.status != "retired"))
    return {serial: (device_id, community_id) for serial, device_id, community_id in rows}


# ---------------------------------------------------------------- storing events once

_INSERT_PG = db.text(
    "WITH ins AS (INSERT INTO device_event (event_id, device_id, community_id, kind, occurred_at, received_at, via, "
    "data) SELECT e, d, c, k, o, :received, :via, CAST(j AS json) FROM unnest(CAST(:e AS text[]), "
    "CAST(:d AS integer[]), CAST(:c AS integer[]), CAST(:k AS text[]), CAST(:o AS timestamptz[]), "
    "CAST(:j AS text[])) AS v(e, d, c, k, o, j) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id, device_id, occurred_at), "
    "seen AS (UPDATE device SET last_seen_at = m.t FROM (SELECT device_id, max(occurred_at) AS t FROM ins "
    "GROUP BY device_id) AS m WHERE device.id = m.device_id "
    "AND (device.last_seen_at IS NULL OR device.last_seen_at < m.t - CAST(:step AS interval))) "
    "SELECT event_id FROM ins")


def _insert(rows: list[dict]) -> set[str]:
    """Insert the rows and move each device's last_seen_at to its newest new event (when
    that is LAST_SEEN_STEP or more ahead); return the event ids actually inserted (the
    others existed).

    PostgreSQL: one short statement whose columns are arrays (INSERT … SELECT FROM unnest …
    ON CONFLICT DO NOTHING RETURNING, with the last_seen_at UPDATE in the same statement), so
    nothing is compiled or parsed per batch — a 1 000-row VALUES list cost more to build than
    to run. SQLite: one cached Core statement executed with the rows (SQLAlchemy's multi-row
    "insertmanyvalues"), then the UPDATEs."""
    if not rows:
        return set()
    if db.engine.dialect.name == "postgresql":
        return set(db.session.scalars(_INSERT_PG, {
            "received": rows[0]["received_at"], "via": rows[0]["via"], "step": LAST_SEEN_STEP,
            "e": [r["event_id"] for r in rows],
            "d": [r["device_id"] for r in rows], "c": [r["community_id"] for r in rows],
            "k": [r["kind"] for r in rows], "o": [r["occurred_at"] for r in rows],
            "j": [None if r["data"] is None else json.dumps(r["data"], ensure_ascii=False) for r in rows]}))
    table = DeviceEvent.__table__
    stmt = insert_or_skip(table, ["event_id"]).returning(table.c.event_id)
    new_ids = set(db.session.connection().execute(stmt, rows).scalars())
    latest: dict[int, datetime] = {}
    for r in rows:
        if r["event_id"] in new_ids and (r["device_id"] not in latest or latest[r["device_id"]] < r["occurred_at"]):
            latest[r["device_id"]] = r["occurred_at"]
    _touch_last_seen(latest, LAST_SEEN_STEP)
    return new_ids


def _touch_last_seen(latest: dict[int, datetime], step: timedelta = timedelta(0)) -> None:
    """last_seen_at = the newest time per device, never moved back (nor by less than `step`)."""
    if not latest:
        return
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text(
            "UPDATE device SET last_seen_at = v.t FROM unnest(CAST(:ids AS integer[]), CAST(:ts AS timestamptz[])) "
            "AS v(id, t) WHERE device.id = v.id AND (device.last_seen_at IS NULL OR device.last_seen_at < v.t)"),
            {"ids": list(latest), "ts": list(latest.values())})
        return
    table = Device.__table__  # one cached statement executed for every device (executemany)
    db.session.connection().execute(
        db.update(table).where(table.c.id == db.bindparam("device_id"), db.or_(
            table.c.last_seen_at.is_(None), table.c.last_seen_at < db.bindparam("before"))).values(
            last_seen_at=db.bindparam("at")),
        [{"device_id": device_id, "at": at, "before": at - step} for device_id, at in latest.items()])


def store(rows: list[dict], via: str, devices: dict[str, tuple[int, int]]) -> list[dict]:
    """Store the events of known devices once; return the ones that are new."""
    received = utcnow()
    new_ids = _insert([{"event_id": r["event_id"], "device_id": devices[r["serial"]][0],
                        "community_id": devices[r["serial"]][1], "kind": r["kind"], "occurred_at": r["occurred_at"],
                        "received_at": received, "via": via, "data": r["data"]} for r in rows])
    return [r for r in rows if r["event_id"] in new_ids]


def apply_status(new: list[dict], devices: dict[str, tuple[int, int]]) -> None:
    """Status effects of new events, in time order: a fault opens a repair case; a heartbeat
    brings an offline device back; `recovered` (or a heartbeat with health "ok") is a faulty
    device reporting healthy. An event older than the device's current status changes nothing."""
    relevant = sorted((r for r in new if r["kind"] in STATUS_KINDS), key=lambda r: r["occurred_at"])
    if not relevant:
        return
    ids = {devices[r["serial"]][0] for r in relevant}
    # An online device changes only on a fault: the heartbeats of healthy devices (most of a
    # busy batch) need no loading. The others are loaded with their open period and case.
    faulty = {devices[r["serial"]][0] for r in relevant if r["kind"] in FAULT_KINDS}
    ids = faulty | set(db.session.scalars(db.select(Device.id).where(among(Device.id, ids - faulty),
                                                                     Device.status != "online")))
    if not ids:
        return
    loaded = {d.id: d for d in db.session.scalars(db.select(Device).where(among(Device.id, ids)))}
    known = OpenRecords(ids)
    for r in relevant:
        device = loaded.get(devices[r["serial"]][0])
        if device is None:
            continue
        if r["occurred_at"] < device.status_since or device.status == "retired":
            continue
        kind, says_ok = r["kind"], (r["data"] or {}).get("health") == "ok"
        if kind in FAULT_KINDS:
            fault(device, kind, r["occurred_at"], r["event_id"], known)
        elif device.status == "fault" and (kind == "recovered" or says_ok):
            healthy(device, r["occurred_at"], known)
        elif device.status == "offline" and kind in ("heartbeat", "recovered"):
            healthy(device, r["occurred_at"], known)


def record_unknown(rows: list[dict], via: str) -> None:
    """Keep the events of serials not registered here (or retired), once per event id, for
    the housing center to see (unknown_serials) until the device is registered (adopt_unknown)."""
    received = utcnow()
    table = UnknownDeviceEvent.__table__
    db.session.execute(insert_or_skip(table, ["event_id"]), [
        {"event_id": r["event_id"], "serial": r["serial"], "kind": r["kind"], "occurred_at": r["occurred_at"],
         "received_at": received, "via": via, "data": r["data"]} for r in rows])
    audit.record("device.unknown_events", target_type="DevicePlatform", target_id=via,
                 after={"serials": sorted({r["serial"] for r in rows})[:50], "count": len(rows)})


def ingest(rows: list[dict], via: str, *, devices: dict | None = None) -> dict:
    """Store checked events and apply their effects in the caller's transaction. An event of
    a serial not registered here is kept apart (record_unknown), so it is not lost and does
    not hold back the known devices' events of the same push or page."""
    devices = devices if devices is not None else device_map(r["serial"] for r in rows)
    unknown = [r for r in rows if r["serial"] not in devices]
    if unknown:
        record_unknown(unknown, via)
    known = [r for r in rows if r["serial"] in devices]
    new = store(known, via, devices)
    apply_status(new, devices)
    return {"accepted": len(new), "duplicates": len(known) - len(new), "unknown": len(unknown)}


def adopt_unknown(device: Device) -> int:
    """A device just registered takes over the events the platform sent for its serial
    before: they join its history (no status effects: they predate its registration)."""
    rows = db.session.scalars(db.select(UnknownDeviceEvent).where(UnknownDeviceEvent.serial == device.serial)).all()
    received = utcnow()
    for via in sorted({r.via for r in rows}):
        _insert([{"event_id": r.event_id, "device_id": device.id, "community_id": device.community_id,
                  "kind": r.kind, "occurred_at": r.occurred_at, "received_at": received, "via": via, "data": r.data}
                 for r in rows if r.via == via])
    for row in rows:
        db.session.delete(row)
    if rows:
        audit.record("device.unknown_adopted", device, after={"serial": device.serial, "events": len(rows)})
    return len(rows)


def unknown_serials(limit: int = 100) -> list[dict]:
    """Serials the platform reports that are not registered here, most recently heard first."""
    last = db.func.max(UnknownDeviceEvent.occurred_at)
    rows = db.session.execute(db.select(UnknownDeviceEvent.serial, db.func.count(), db.func.min(
        UnknownDeviceEvent.occurred_at), last).group_by(UnknownDeviceEvent.serial).order_by(last.desc()).limit(limit))
    return [{"serial": serial, "events": n, "first": first, "last": latest} for serial, n, first, latest in rows]


def receive_push(body) -> dict:
    """A signed push from the platform (the signature was checked by the caller, whose
    nonce row is in this transaction). Commits; bad input raises and changes nothing."""
    result = ingest(clean_events(body), "push")
    db.session.commit()
    return result


# ---------------------------------------------------------------- polling the platform

def _sync(name: str = "events") -> DevicePlatformSync:
    row = db.session.get(DevicePlatformSync, name)
    if row is None:
        row = DevicePlatformSync(name=name, cursor="0")
        db.session.add(row)
        db.session.flush()
    return row


def poll_events(max_pages: int = 1000) -> dict:
    """Read the platform's events after our cursor, page by page, each page committed with
    the cursor that follows it. Platform down: nothing changes, the error is kept, and the
    next run reads from the same cursor (the platform keeps its events; nothing is lost)."""
    client = client_from_config(current_app.config)
    totals = Counter()
    sync = _sync()
    sync.last_attempt_at = now()
    db.session.commit()
    for _page in range(max_pages):
        try:
            page = client.events(cursor=sync.cursor, limit=_config("DEVICE_POLL_PAGE", 500))
        except DevicePlatformUnavailable as e:
            db.session.rollback()
            sync = _sync()
            sync.last_error = str(e)[:2000]
            db.session.commit()
            log.warning("device platform unavailable: %s", e)
            totals["failed"] = 1
            return dict(totals)
        events = page.get("events") or []
        try:
            rows = clean_events({"events": events}) if events else []
        except ValidationFailed as e:  # a malformed page: keep the cursor, show the problem
            db.session.rollback()
            sync = _sync()
            sync.last_error = f"{e.message} {e.fields}"[:2000]
            db.session.commit()
            totals["malformed"] = 1
            return dict(totals)
        result = ingest(rows, "poll")
        totals.update(result)
        sync = _sync()
        sync.cursor = str(page.get("cursor", sync.cursor))
        sync.last_error = None
        db.session.commit()
        if not page.get("more"):
            break
    sync = _sync()
    sync.last_success_at = now()
    db.session.commit()
    return dict(totals)


def poll_status() -> int:
    """The platform's own view of each device: its last heartbeat counts as our last sight."""
    client = client_from_config(current_app.config)
    try:
        listed = client.devices()
    except DevicePlatformUnavailable as e:
        log.warning("device platform unavailable: %s", e)
        return 0
    latest = {}
    known = device_map(d.get("serial") for d in listed if isinstance(d.get("serial"), str))
    for item in listed:
        at = _parse_time(item.get("last_heartbeat_at"))
        if item.get("serial") in known and at is not None:
            latest[known[item["serial"]][0]] = at.astimezone(timezone.utc)
    _touch_last_seen(latest)
    db.session.commit()
    return len(latest)


def detect_offline() -> int:
    """Devices whose heartbeats stopped are offline (and a repair case opens). Judged only
    against the last complete poll of the platform: while it is down we know nothing, so no
    device is marked offline because of the platform's outage."""
    sync = db.session.get(DevicePlatformSync, "events")
    if sync is None or sync.last_success_at is None:
        return 0
    limit = timedelta(minutes=_config("DEVICE_OFFLINE_MINUTES", 15))
    if now() - sync.last_success_at > limit:
        return 0  # the last successful poll is too old to judge by
    cutoff = sync.last_success_at - limit - LAST_SEEN_STEP  # last_seen_at may lag by up to the step
    stale = db.session.scalars(db.select(Device).where(Device.status.in_(("online",)), Device.last_seen_at < cutoff))
    count = 0
    for device in stale.all():
        set_status(device, "offline", device.last_seen_at + limit)
        open_repair_case(device, "offline", device.status_since, None)
        count += 1
    db.session.commit()
    return count


# ---------------------------------------------------------------- summaries and retention

def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, SHANGHAI).astimezone(timezone.utc)
    return start, start + timedelta(days=1)


def _overlap(a0, a1, b0, b1) -> float:
    return max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds())


def summarise(community_id: int, day: date) -> DeviceDailySummary:
    """Recompute one community's day: availability (online share of device time), faults
    (repair cases opened), events, staff check-ins and distinct staff present."""
    start, end = _day_bounds(day)
    end = min(end, max(now(), start))
    devices = db.session.scalars(db.select(Device).where(
        Device.community_id == community_id, Device.created_at < end,
        db.or_(Device.status != "retired", Device.status_since > start))).all()
    total = up = 0.0
    if devices and end > start:
        periods = defaultdict(list)
        for p in db.session.scalars(db.select(DeviceStatusPeriod).where(
                DeviceStatusPeriod.device_id.in_([d.id for d in devices]), DeviceStatusPeriod.started_at < end,
                db.or_(DeviceStatusPeriod.ended_at.is_(None), DeviceStatusPeriod.ended_at > start))):
            periods[p.device_id].append(p)
        for device in devices:
            window_start = max(start, device.created_at)
            window_end = end if device.status != "retired" else min(end, device.status_since)
            total += max(0.0, (window_end - window_start).total_seconds())
            up += sum(_overlap(p.started_at, p.ended_at or end, window_start, window_end)
                      for p in periods[device.id] if p.status == "online")
    counts = dict(db.session.execute(db.select(DeviceEvent.kind, db.func.count()).where(
        DeviceEvent.community_id == community_id, DeviceEvent.occurred_at >= start, DeviceEvent.occurred_at < end)
        .group_by(DeviceEvent.kind)).all())
    staff = {(e or {}).get("staff_id") for e in db.session.scalars(db.select(DeviceEvent.data).where(
        DeviceEvent.community_id == community_id, DeviceEvent.kind == "staff_checkin",
        DeviceEvent.occurred_at >= start, DeviceEvent.occurred_at < end))} - {None}
    faults = db.session.scalar(db.select(db.func.count(RepairCase.id)).where(
        RepairCase.community_id == community_id, RepairCase.fault_at >= start, RepairCase.fault_at < end))
    row = db.session.scalar(db.select(DeviceDailySummary).where(DeviceDailySummary.community_id == community_id,
                                                                DeviceDailySummary.day == day))
    if row is None:
        row = DeviceDailySummary(community_id=community_id, day=day)
        db.session.add(row)
    row.devices = len(devices)
    row.availability = (Decimal(str(100 * up / total)).quantize(Decimal("0.01"), ROUND_HALF_UP)
                        if total else None)
    row.faults, row.events = faults, sum(counts.values())
    row.staff_checkins, row.staff_present = counts.get("staff_checkin", 0), len(staff)
    row.updated_at = utcnow()
    return row


def summarise_days(days: list[date] | None = None) -> int:
    """Summaries of yesterday and today (by default) for every community with devices."""
    today = now().astimezone(SHANGHAI).date()
    days = days or [today - timedelta(days=1), today]
    communities = db.session.scalars(db.select(Community.id).where(Community.id.in_(
        db.select(Device.community_id)))).all()
    for community_id in communities:
        for day in days:
            summarise(community_id, day)
    db.session.commit()
    return len(communities) * len(days)


def purge_old_events() -> int:
    """Raw events (also those of unknown serials) older than the retention period (180 days
    by default) are deleted; the daily summaries stay. Community by community, through the (community, time) index."""
    cutoff = now() - timedelta(days=_config("DEVICE_EVENT_RETENTION_DAYS", 180))
    deleted = 0
    for community_id in db.session.scalars(db.select(Community.id)).all():
        deleted += db.session.execute(db.delete(DeviceEvent).where(
            DeviceEvent.community_id == community_id, DeviceEvent.occurred_at < cutoff)).rowcount or 0
        db.session.commit()
    db.session.execute(db.delete(DeviceStatusPeriod).where(DeviceStatusPeriod.ended_at < cutoff))
    deleted += db.session.execute(db.delete(UnknownDeviceEvent).where(
        UnknownDeviceEvent.occurred_at < cutoff)).rowcount or 0
    db.session.commit()
    return deleted
