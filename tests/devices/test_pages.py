"""The device pages: who sees which board, device and repair (own enterprise, own street,
own supplier; nothing for others), device registration with errors at the field, the daily
summary behind the availability chart, and retention of raw events."""
import json
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

from app.extensions import db
from app.models import Device, DeviceDailySummary, DeviceEvent, DeviceStatusPeriod, UnknownDeviceEvent
from app.services import device_events
from app.services.devices import SHANGHAI
from tests.devices.conftest import control, post_signed, run_scheduler_once, run_worker


def test_board_and_device_pages_show_only_what_each_role_may_see(app, world, client, login_as):
    w = world
    elevator, camera = w["devices"]["SN-ELV-1"], w["devices"]["SN-CAM-9"]
    at = datetime.now(timezone.utc)
    post_signed(client, app, {"events": [
        {"event_id": "E1", "device_serial": "SN-ELV-1", "type": "heartbeat", "occurred_at": at.isoformat(),
         "data": {"health": "ok"}},
        {"event_id": "E2", "device_serial": "SN-ELV-1", "type": "elevator_fault",
         "occurred_at": (at + timedelta(seconds=5)).isoformat(), "data": {"code": "E21"}}]})

    enterprise = login_as("enterprise", org=w["enterprise"])
    index = enterprise.get("/devices/").get_data(as_text=True)
    assert "世纪华庭" in index and "峒河湾" not in index
    board = enterprise.get(f"/devices/community/{w['community'].id}").get_data(as_text=True)
    assert "SN-ELV-1" in board and "SN-ACC-1" in board and 'data-status="fault">1<' in board
    assert "open-repairs" in board and "电梯故障" in board
    detail = enterprise.get(f"/devices/{elevator.id}").get_data(as_text=True)
    assert "电梯故障" in detail and "code=E21" in detail and "ZL-2000" in detail
    assert enterprise.get(f"/devices/community/{w['far'].id}").status_code == 404
    assert enterprise.get(f"/devices/{camera.id}").status_code == 404

    street = login_as("street_office", org=w["street"])
    assert street.get(f"/devices/community/{w['community'].id}").status_code == 200
    assert street.get(f"/devices/community/{w['far'].id}").status_code == 404
    assert login_as("street_office", org=w["other_street"]).get(f"/devices/{elevator.id}").status_code == 404

    supplier = login_as("device_supplier", org=w["supplier"])
    assert "世纪华庭" in supplier.get("/devices/").get_data(as_text=True)
    assert supplier.get(f"/devices/{elevator.id}").status_code == 200
    assert supplier.get(f"/devices/{camera.id}").status_code == 404
    other_supplier = login_as("device_supplier", org=w["other_supplier"])
    assert "SN-ELV-1" not in other_supplier.get("/devices/repairs?all=1").get_data(as_text=True)
    assert other_supplier.get(f"/devices/community/{w['community'].id}").status_code == 404

    center = login_as("housing_center")
    assert "峒河湾" in center.get("/devices/").get_data(as_text=True)
    assert "SN-ELV-1" in center.get("/devices/repairs").get_data(as_text=True)

    for role in ("owners_committee", "owner", "mediator"):
        assert login_as(role).get("/devices/").status_code == 403, role
    assert login_as("bank").get(f"/devices/{elevator.id}").status_code == 404  # not its devices
    assert enterprise.get("/devices/records").status_code == 403
    assert enterprise.get("/devices/new").status_code == 403


def test_registering_a_device_checks_every_field(app, world, login_as):
    supplier = login_as("device_supplier", org=world["supplier"])
    form = {"community_id": world["community"].id, "kind": "access", "serial": "SN-ACC-1",
            "installed_on": "2026-03-01", "warranty_until": "2025-03-01"}
    bad = supplier.post("/devices/new", data=form)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "该序列号的设备已登记" in text and "维保期不能早于安装日期" in text
    assert supplier.post("/devices/new", data={**form, "kind": "robot"}).status_code == 422
    ok = supplier.post("/devices/new", data={**form, "serial": "SN-ACC-2", "warranty_until": "2029-02-28"})
    assert ok.status_code == 302
    added = db.session.scalar(db.select(Device).where(Device.serial == "SN-ACC-2"))
    assert added.supplier_id == world["supplier"].id and added.owner == "enterprise" and added.status == "offline"


def _at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def test_daily_summary_availability_faults_attendance_and_retention(app, world, client, login_as, clock):
    day = datetime.now(SHANGHAI).date() - timedelta(days=2)
    start = _at(day, 0).astimezone(timezone.utc)
    for device in (world["devices"]["SN-ELV-1"], world["devices"]["SN-ACC-1"]):
        device.created_at = device.status_since = start  # installed before the day began
        db.session.execute(db.update(DeviceStatusPeriod).where(DeviceStatusPeriod.device_id == device.id)
                           .values(started_at=start))
    db.session.commit()

    def ev(n, serial, kind, when, **data):
        return {"event_id": f"D{n}", "device_serial": serial, "type": kind, "occurred_at": when.isoformat(),
                "data": data}
    events = [ev(1, "SN-ELV-1", "heartbeat", _at(day, 6)), ev(2, "SN-ELV-1", "elevator_fault", _at(day, 18)),
              ev(3, "SN-ACC-1", "heartbeat", _at(day, 12)),
              ev(4, "SN-ACC-1", "staff_checkin", _at(day, 8), staff_id="S-1"),
              ev(5, "SN-ACC-1", "staff_checkin", _at(day, 13), staff_id="S-1"),
              ev(6, "SN-ACC-1", "staff_checkin", _at(day, 9), staff_id="S-2")]
    response, _ = post_signed(client, app, {"events": events})
    assert response.status_code == 200 and response.get_json()["accepted"] == 6

    device_events.summarise_days([day])
    row = db.session.scalar(db.select(DeviceDailySummary).where(
        DeviceDailySummary.community_id == world["community"].id, DeviceDailySummary.day == day))
    # SN-ELV-1 online 06:00–18:00, SN-ACC-1 online 12:00–24:00: 24 of 48 device-hours.
    assert row.devices == 2 and row.availability == Decimal("50.00")
    assert (row.faults, row.events, row.staff_checkins, row.staff_present) == (1, 6, 3, 2)
    device_events.summarise_days([day])  # idempotent: one row per community with devices and day
    assert db.session.scalar(db.select(db.func.count(DeviceDailySummary.id))) == 2

    page = login_as("enterprise", org=world["enterprise"]).get(f"/devices/community/{world['community'].id}")
    text = page.get_data(as_text=True)
    assert "50.00%" in text and json.dumps(day.isoformat()) in text

    app.config["DEVICE_EVENT_RETENTION_DAYS"] = 1
    clock(datetime.now(timezone.utc) + timedelta(days=1))
    assert device_events.purge_old_events() == 6
    assert db.session.scalar(db.select(db.func.count(DeviceEvent.id))) == 0
    assert db.session.get(DeviceDailySummary, row.id).availability == Decimal("50.00")  # the summary stays


def test_the_daily_job_runs_on_a_real_worker_summaries_and_retention(redis_app, registered, platform, database_url,
                                                                     redis_url, tmp_path):
    """workers.devices.daily, queued by the real scheduler on the devices queue and run by a
    real RQ worker process: today's summary of each community with devices, and the raw
    events past retention (also an unknown device's) deleted while today's stay."""
    now_ = datetime.now(timezone.utc)
    old = (now_ - timedelta(days=200)).isoformat()
    control(platform, "devices", devices=[{"serial": "SN-STRANGER", "kind": "video"}])
    control(platform, "heartbeat", serials=["SN-ELV-1", "SN-STRANGER"], occurred_at=old)
    control(platform, "heartbeat")
    control(platform, "emit", serial="SN-ACC-1", type="staff_checkin", data={"staff_id": "S-1"})
    control(platform, "emit", serial="SN-ACC-1", type="staff_checkin", data={"staff_id": "S-2"})
    control(platform, "emit", serial="SN-ACC-1", type="staff_checkin", data={"staff_id": "S-1"})
    assert control(platform, "flush") == {"sent": 9, "pending": 0}
    assert db.session.scalar(db.select(db.func.count(DeviceEvent.id))) == 7
    assert db.session.scalar(db.select(db.func.count(UnknownDeviceEvent.id))) == 2
    start, end = (datetime.combine(now_.astimezone(SHANGHAI).date(), time.min, SHANGHAI) + timedelta(days=n)
                  for n in (0, 1))

    def today_events(community):  # an independent count of what the summary must say
        return db.session.scalar(db.select(db.func.count(DeviceEvent.id)).where(
            DeviceEvent.community_id == community.id, DeviceEvent.occurred_at >= start, DeviceEvent.occurred_at < end))
    expected = {registered["community"].id: today_events(registered["community"]),
                registered["far"].id: today_events(registered["far"])}
    assert expected == {registered["community"].id: 5, registered["far"].id: 1}

    run_scheduler_once(redis_app, database_url, redis_url, tmp_path)
    run_worker(redis_app, database_url, redis_url, tmp_path, queues=("devices",))

    today = now_.astimezone(SHANGHAI).date()
    rows = {r.community_id: r for r in db.session.scalars(db.select(DeviceDailySummary).where(
        DeviceDailySummary.day == today))}
    assert {k: r.events for k, r in rows.items()} == expected
    ours = rows[registered["community"].id]
    assert (ours.devices, ours.staff_checkins, ours.staff_present, ours.faults) == (2, 3, 2, 0)
    assert ours.availability is not None and Decimal("0") < ours.availability < Decimal("100")
    assert db.session.scalar(db.select(db.func.count(DeviceDailySummary.id)).where(
        DeviceDailySummary.day == today - timedelta(days=1))) == 2  # yesterday's too
    assert db.session.scalar(db.select(db.func.count(DeviceEvent.id))) == 6  # the 200-day-old heartbeat is gone
    assert db.session.scalar(db.select(db.func.min(DeviceEvent.occurred_at))) >= start
    assert db.session.scalar(db.select(db.func.count(UnknownDeviceEvent.id))) == 1
