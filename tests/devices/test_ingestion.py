"""Events from the device platform, pushed (signed) and polled (by cursor): stored once per
event id; forged, replayed and malformed pushes refused with nothing changed; events of
unknown devices kept apart while the rest of their push is stored; heartbeats, faults and
offline detection; the platform down and back."""
import json
from datetime import datetime, timedelta, timezone

from redis import Redis
from rq import Queue

from app.extensions import db
from app.integrations.signing import sign_headers
from app.models import (AuditEvent, DeviceEvent, DevicePlatformSync, DeviceStatusPeriod, IntegrationNonce,
                        ProcessInstance, RepairCase, UnknownDeviceEvent)
from app.services import device_events
from tests.devices.conftest import (PUSH_PATH, control, device, platform_state, post_signed, repair_of,
                                    run_worker)
from tests.html_tables import table_rows


def event(event_id, serial="SN-ELV-1", kind="heartbeat", at=None, **data):
    return {"event_id": event_id, "device_serial": serial, "type": kind,
            "occurred_at": (at or datetime.now(timezone.utc)).isoformat(), "data": data}


def stored_ids():
    return sorted(db.session.scalars(db.select(DeviceEvent.event_id)))


def test_pushed_and_polled_events_are_stored_once(app, registered, platform):
    control(platform, "heartbeat")
    control(platform, "emit", serial="SN-ACC-1", type="door_open", data={"door": "东门"})
    control(platform, "emit", serial="SN-ACC-1", type="staff_checkin", data={"staff_id": "S-001"})
    emitted = platform_state(platform)["events"]
    assert emitted == 5

    pushed = control(platform, "flush")
    assert pushed == {"sent": 5, "pending": 0}
    assert len(stored_ids()) == 5
    assert device("SN-ELV-1").status == "online" and device("SN-ELV-1").last_seen_at is not None
    assert db.session.scalar(db.select(DeviceEvent).where(DeviceEvent.kind == "door_open")).data == {"door": "东门"}

    # The vendor resends everything (lost acknowledgements), and polling reads the same events.
    control(platform, "resend")
    control(platform, "flush")
    result = device_events.poll_events()
    assert result["accepted"] == 0 and result["duplicates"] == 5
    assert len(stored_ids()) == 5
    assert db.session.get(DevicePlatformSync, "events").cursor == "5"
    assert platform_state(platform)["refused"] == []

    # New events after the cursor: polled once, then pushed (already there).
    control(platform, "emit", serial="SN-ELV-1", type="door_open")
    assert device_events.poll_events()["accepted"] == 1
    control(platform, "flush")
    assert len(stored_ids()) == 6
    assert set(db.session.scalars(db.select(DeviceEvent.via))) == {"push", "poll"}


def test_forged_replayed_and_tampered_pushes_are_refused(app, client, world):
    body = {"events": [event("EV-1")]}
    forged, _ = post_signed(client, app, body, secret="not-the-secret")
    assert forged.status_code == 401 and forged.get_json()["fields"] == {"signature": "bad_signature"}
    unsigned = client.post(PUSH_PATH, json=body)
    assert unsigned.status_code == 401 and unsigned.get_json()["fields"] == {"signature": "missing"}
    assert stored_ids() == []

    accepted, headers = post_signed(client, app, body)
    assert accepted.status_code == 200 and accepted.get_json()["accepted"] == 1
    replayed, _ = post_signed(client, app, body, headers=headers)
    assert replayed.status_code == 401 and replayed.get_json()["fields"] == {"signature": "replayed"}

    other = json.dumps({"events": [event("EV-2")]}).encode()
    tampered, _ = post_signed(client, app, None, headers=headers | {"X-Wuye-Nonce": "fresh-nonce"}, raw=other)
    assert tampered.status_code == 401
    stale_headers = sign_headers(app.config["DEVICE_SECRET"], "platform", "POST", PUSH_PATH, other,
                                 now=datetime.now(timezone.utc).timestamp() - 3600)
    stale, _ = post_signed(client, app, None, headers=stale_headers, raw=other)
    assert stale.status_code == 401 and stale.get_json()["fields"] == {"signature": "expired"}
    assert stored_ids() == ["EV-1"]

    # The same event again with a fresh signature (the platform's resend): acknowledged, kept once.
    again, _ = post_signed(client, app, body)
    assert again.status_code == 200 and again.get_json() == {"status": "ok", "accepted": 0, "duplicates": 1,
                                                              "unknown": 0}
    assert stored_ids() == ["EV-1"]


def test_bad_pushes_sent_by_the_platform_over_http_are_refused_and_the_good_ones_stored_once(app, registered,
                                                                                            platform):
    """The sandbox platform sends forged, unsigned, stale, malformed, replayed and tampered
    pushes over HTTP to Wuye served on a real port: each is refused and stores nothing (not
    even its nonce); the real pushes of the same events then go through, stored once."""
    control(platform, "heartbeat")  # three events queued at the platform
    for kind, field in (("forged", "bad_signature"), ("unsigned", "missing"), ("stale", "expired")):
        answer = control(platform, "drill", kind=kind)
        assert answer["status"] == 401 and answer["answer"]["fields"] == {"signature": field}, (kind, answer)
    for raw, field in (("{not json", "body"), (json.dumps({"events": [event("EV-X", kind="explode")]}), "events[0].type"),
                       (json.dumps({"events": [event("EV-Y", serial="")]}), "events[0].device_serial")):
        answer = control(platform, "drill", kind="malformed", raw=raw)
        assert answer["status"] == 422 and field in answer["answer"]["fields"], (raw, answer)
    assert stored_ids() == [] and db.session.scalar(db.select(db.func.count(IntegrationNonce.id))) == 0

    assert control(platform, "flush") == {"sent": 3, "pending": 0}
    assert len(stored_ids()) == 3
    replayed = control(platform, "drill", kind="replayed")  # the acknowledged push again, byte for byte
    assert replayed["status"] == 401 and replayed["answer"]["fields"] == {"signature": "replayed"}
    control(platform, "emit", serial="SN-ACC-1", type="forced_open")
    tampered = control(platform, "drill", kind="tampered")  # that push's signature over the new event
    assert tampered["status"] == 401 and tampered["answer"]["fields"] == {"signature": "bad_signature"}
    assert len(stored_ids()) == 3

    assert control(platform, "flush") == {"sent": 1, "pending": 0}
    control(platform, "resend")
    control(platform, "flush")
    assert len(stored_ids()) == 4 and platform_state(platform)["refused"] == []
    assert db.session.scalar(db.select(DeviceEvent.kind).where(DeviceEvent.kind == "forced_open")) == "forced_open"


def test_malformed_pushes_are_refused_at_the_field_and_change_nothing(app, client, world):
    naive = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None).isoformat()  # no offset: refused
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    cases = [
        ({"events": []}, "events"),
        ({"events": "x"}, "events"),
        ({"events": [event("", kind="heartbeat")]}, "events[0].event_id"),
        ({"events": [event("EV-1", kind="explode")]}, "events[0].type"),
        ({"events": [{**event("EV-1"), "occurred_at": naive}]}, "events[0].occurred_at"),
        ({"events": [{**event("EV-1"), "occurred_at": "yesterday"}]}, "events[0].occurred_at"),
        ({"events": [{**event("EV-1"), "occurred_at": future}]}, "events[0].occurred_at"),
        ({"events": [event("EV-1"), {**event("EV-2"), "data": [1, 2]}]}, "events[1].data"),
        ({"events": [event("EV-1"), "not an object"]}, "events[1]"),
        ({"events": [event("EV-%d" % i) for i in range(1001)]}, "events"),
    ]
    for body, field in cases:
        response, _ = post_signed(client, app, body)
        assert response.status_code == 422, (body, response.get_data(as_text=True))
        answer = response.get_json()
        assert answer["error"] == "validation_failed" and field in answer["fields"], (field, answer)
    not_json, _ = post_signed(client, app, None, raw=b"{not json")
    assert not_json.status_code == 422 and "JSON" in not_json.get_json()["message"]
    assert stored_ids() == []
    assert db.session.scalar(db.select(db.func.count(IntegrationNonce.id))) == 0  # a corrected resend is welcome

    good, _ = post_signed(client, app, {"events": [event("EV-1")]})
    assert good.status_code == 200 and stored_ids() == ["EV-1"]


def unknown_ids():
    return sorted(db.session.scalars(db.select(UnknownDeviceEvent.event_id)))


def test_an_event_for_an_unknown_device_is_kept_apart_and_the_rest_stored(app, client, world, login_as):
    """An unknown serial no longer refuses the whole push (which the platform then dropped,
    losing the known devices' events too): the known events are stored, the unknown ones
    kept for the housing center, and the answer counts both."""
    response, _ = post_signed(client, app, {"events": [event("EV-1"), event("EV-2", serial="SN-NOBODY"),
                                                       event("EV-3", serial="SN-NOBODY", kind="door_open")]})
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "accepted": 1, "duplicates": 0, "unknown": 2}
    assert stored_ids() == ["EV-1"] and device("SN-ELV-1").last_seen_at is not None
    assert unknown_ids() == ["EV-2", "EV-3"]
    again, _ = post_signed(client, app, {"events": [event("EV-2", serial="SN-NOBODY")]})  # the platform's resend
    assert again.get_json()["unknown"] == 1 and unknown_ids() == ["EV-2", "EV-3"]  # kept once

    page = login_as("housing_center").get("/devices/").get_data(as_text=True)
    assert table_rows(page, "unknown-devices")[1][:2] == ["SN-NOBODY", "2"]
    for role, org in (("enterprise", world["enterprise"]), ("device_supplier", world["supplier"]),
                      ("street_office", world["street"])):
        assert 'data-testid="unknown-devices"' not in login_as(role, org=org).get("/devices/").get_data(as_text=True)

    # The supplier registers the device: its earlier events join its record, the list empties.
    supplier = login_as("device_supplier", org=world["supplier"])
    assert supplier.post("/devices/new", data={"community_id": world["community"].id, "kind": "access",
                                               "serial": "SN-NOBODY", "installed_on": "2026-03-01"}).status_code == 302
    assert stored_ids() == ["EV-1", "EV-2", "EV-3"] and unknown_ids() == []
    assert device("SN-NOBODY").last_seen_at is not None and device("SN-NOBODY").status == "offline"
    assert "没有未登记设备的事件" in login_as("housing_center").get("/devices/").get_data(as_text=True)


def test_nothing_is_lost_through_the_sandbox_when_one_device_is_unknown(app, registered, platform):
    """End to end: the platform pushes a batch mixing known devices and one it knows but we
    do not; the push is acknowledged (nothing refused, nothing left pending) and every event
    it sent is here, in the registry's history or among the unknown-device events."""
    control(platform, "devices", devices=[{"serial": "SN-STRANGER", "kind": "video"}])
    control(platform, "heartbeat")
    control(platform, "fault", serial="SN-ELV-1", type="elevator_fault")
    control(platform, "emit", serial="SN-STRANGER", type="camera_offline")
    assert control(platform, "flush") == {"sent": 6, "pending": 0}
    state = platform_state(platform)
    assert state["refused"] == [] and state["pushed"] == 6
    assert len(stored_ids()) == 4 and len(unknown_ids()) == 2
    assert device("SN-ELV-1").status == "fault" and repair_of("SN-ELV-1") is not None
    assert device_events.poll_events() == {"accepted": 0, "duplicates": 4, "unknown": 2}  # polling agrees
    assert len(stored_ids()) + len(unknown_ids()) == state["events"] == 6


def test_polling_skips_unknown_devices_and_records_them(app, registered, platform):
    control(platform, "devices", devices=[{"serial": "SN-STRANGER", "kind": "video"}])
    control(platform, "heartbeat")
    result = device_events.poll_events()
    assert result == {"accepted": 3, "duplicates": 0, "unknown": 1}
    audit = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "device.unknown_events"))
    assert audit.after["serials"] == ["SN-STRANGER"]
    assert db.session.scalar(db.select(UnknownDeviceEvent.serial)) == "SN-STRANGER"


def test_polling_the_device_list_moves_last_seen_forward_only(app, registered, platform):
    """poll_status reads the platform's device list: each known device's last heartbeat there
    becomes its last sight (never moved back); status changes come only from the events."""
    seen = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5)
    control(platform, "devices", devices=[{"serial": "SN-STRANGER", "kind": "video"}])
    control(platform, "heartbeat", serials=["SN-ELV-1", "SN-STRANGER"], occurred_at=seen.isoformat())
    assert device_events.poll_status() == 1  # SN-ACC-1 and SN-CAM-9 never beat; SN-STRANGER is not ours
    elevator = device("SN-ELV-1")
    assert elevator.last_seen_at == seen and elevator.status == "offline"
    assert device("SN-ACC-1").last_seen_at is None and device("SN-CAM-9").last_seen_at is None
    assert stored_ids() == []  # the list is not the event log: nothing ingested

    later = datetime.now(timezone.utc)  # after the registration: the device comes online
    control(platform, "heartbeat", serials=["SN-ELV-1"], occurred_at=later.isoformat())
    device_events.poll_events()
    assert device("SN-ELV-1").last_seen_at == later and device("SN-ELV-1").status == "online"
    control(platform, "heartbeat", serials=["SN-ELV-1"], occurred_at=seen.isoformat())  # a late, older report
    assert device_events.poll_status() == 1
    assert device("SN-ELV-1").last_seen_at == later

    control(platform, "down")
    assert device_events.poll_status() == 0
    assert device("SN-ELV-1").last_seen_at == later


def test_a_fault_opens_one_repair_case_and_its_process(app, registered, platform):
    control(platform, "heartbeat")
    control(platform, "fault", serial="SN-ELV-1", type="elevator_fault", data={"code": "E21"})
    control(platform, "fault", serial="SN-ELV-1", type="elevator_trapped")
    control(platform, "flush")
    elevator = device("SN-ELV-1")
    assert elevator.status == "fault"
    cases = db.session.scalars(db.select(RepairCase)).all()
    assert len(cases) == 1 and cases[0].fault_kind == "elevator_fault"
    assert cases[0].deadline_at - cases[0].fault_at == timedelta(hours=24)
    instance = db.session.get(ProcessInstance, cases[0].instance_id)
    assert instance.model_key == "device_repair" and instance.device_supplier_id == registered["supplier"].id
    assert instance.enterprise_id == registered["enterprise"].id


def test_status_changes_within_one_batch_chain_their_periods(app, registered, platform):
    """One delivered batch brings a device online, faults it and reports it healthy: each
    change closes the period before it (one open period per device) and the case sees it."""
    t0 = datetime.now(timezone.utc)
    control(platform, "heartbeat", serials=["SN-ELV-1"], occurred_at=t0.isoformat())
    control(platform, "fault", serial="SN-ELV-1", type="elevator_fault",
            occurred_at=(t0 + timedelta(seconds=1)).isoformat())
    control(platform, "recover", serial="SN-ELV-1", occurred_at=(t0 + timedelta(seconds=2)).isoformat())
    assert control(platform, "flush") == {"sent": 3, "pending": 0}  # one push
    assert device("SN-ELV-1").status == "online"
    periods = db.session.scalars(db.select(DeviceStatusPeriod).where(
        DeviceStatusPeriod.device_id == device("SN-ELV-1").id).order_by(DeviceStatusPeriod.started_at)).all()
    assert [(p.status, p.ended_at) for p in periods] == [
        ("offline", t0), ("online", t0 + timedelta(seconds=1)), ("fault", t0 + timedelta(seconds=2)),
        ("online", None)]
    assert repair_of("SN-ELV-1").healthy_at == t0 + timedelta(seconds=2)


def test_offline_when_heartbeats_stop_but_not_while_the_platform_is_down(app, registered, platform, clock):
    start = datetime.now(timezone.utc)
    control(platform, "heartbeat")
    clock(start)
    device_events.poll_events()
    assert device("SN-ACC-1").status == "online"

    control(platform, "silence", serial="SN-ACC-1")
    control(platform, "down")
    clock(start + timedelta(hours=1))
    assert device_events.poll_events() == {"failed": 1}
    assert "503" in db.session.get(DevicePlatformSync, "events").last_error
    assert device_events.detect_offline() == 0  # we cannot tell: the platform is the one that is down
    assert device("SN-ACC-1").status == "online"

    control(platform, "up")
    later = start + timedelta(hours=1)
    control(platform, "heartbeat", occurred_at=later.isoformat())  # the others still report; SN-ACC-1 is silent
    device_events.poll_events()
    assert db.session.get(DevicePlatformSync, "events").last_error is None
    assert device_events.detect_offline() == 1
    access = device("SN-ACC-1")
    assert access.status == "offline" and device("SN-ELV-1").status == "online"
    case = repair_of("SN-ACC-1")
    assert case.fault_kind == "offline" and case.fault_event_id is None

    control(platform, "recover", serial="SN-ACC-1", occurred_at=(later + timedelta(minutes=1)).isoformat())
    device_events.poll_events()
    assert device("SN-ACC-1").status == "online"
    assert db.session.get(RepairCase, case.id).healthy_at is not None


def test_platform_down_for_an_hour_then_back_through_the_rq_worker(redis_app, registered, platform, database_url,
                                                                    redis_url, tmp_path):
    """Pushes and the poll job both fail while the platform is down; events keep
    accumulating there. When it is back the worker's poll and the resumed pushes deliver
    every event exactly once, and the fault among them opens one repair case."""
    control(platform, "heartbeat")
    control(platform, "flush")
    control(platform, "down")
    for _ in range(3):
        control(platform, "heartbeat")
    control(platform, "fault", serial="SN-CAM-9", type="camera_offline")
    control(platform, "emit", serial="SN-ACC-1", type="forced_open")
    assert control(platform, "flush")["pending"] == 11

    queue = Queue("devices", connection=Redis.from_url(redis_url))
    queue.enqueue("workers.runner.run", "workers.devices.poll", [], {})
    run_worker(redis_app, database_url, redis_url, tmp_path)
    assert len(stored_ids()) == 3
    sync = db.session.get(DevicePlatformSync, "events")
    assert sync.cursor == "0" and "503" in sync.last_error  # the first three came by push

    control(platform, "up")
    control(platform, "flush")  # pushes resume (some of them now race the poll below)
    queue.enqueue("workers.runner.run", "workers.devices.poll", [], {})
    run_worker(redis_app, database_url, redis_url, tmp_path)  # also runs the repair process start

    sent = platform_state(platform)
    assert sent["pending"] == 0 and sent["refused"] == []
    assert len(stored_ids()) == sent["events"] == 14
    assert db.session.get(DevicePlatformSync, "events").cursor == "14"
    cases = db.session.scalars(db.select(RepairCase)).all()
    assert [c.fault_kind for c in cases] == ["camera_offline"]
    assert cases[0].instance_id is not None  # started by the worker's job
    assert device("SN-CAM-9").status == "fault"
