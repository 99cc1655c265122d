"""A stand-in of a device vendor's open platform (access control, elevators, cameras, staff
attendance).

Signed requests only (HMAC, see app/integrations/signing.py):
  GET /api/devices                    every device with its status and last heartbeat
  GET /api/devices/<serial>/status    one device
  GET /api/events?cursor=N&limit=M    the event log after cursor N: {events, cursor, more}
Every event is also pushed, signed, to the subscriber URL (Wuye's
POST /api/v1/integrations/devices/events) and resent until acknowledged, as vendors do: the
same event id may arrive several times.

/_control/ (unsigned) is for tests and demos: add devices, emit events, heartbeats, faults
and recoveries, silence a device, take the platform down (its API answers 503 and it pushes
nothing; events keep accumulating and go out when it is up again) and flush the pushes.
/_control/drill sends one bad push over HTTP, as an attacker or a broken vendor would:
forged (wrong secret), unsigned, stale, replayed (the last acknowledged push again, same
nonce), tampered (its signature over another body) or malformed (signed, but bad JSON or a
bad event); the queued events stay queued, and the answer is Wuye's.

Run: python -m sandbox.devices --port 8102 [--push-url URL]
"""
import argparse
import json
import threading
import time
import uuid
from collections import deque
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests
from flask import Flask, abort, jsonify, request

from app.integrations.signing import SignatureError, sign_headers, verify

KINDS = ("elevator", "access", "video", "staff")
PUSH_BATCH = 100


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class PlatformState:
    def __init__(self):
        self.lock = threading.RLock()
        self.push_lock = threading.Lock()  # one push at a time keeps the order
        self.prefix = uuid.uuid4().hex[:8]
        self.devices = {}  # serial -> dict
        self.events = []  # the log; the cursor is an index into it
        self.outbox = deque()  # events not yet acknowledged by the subscriber
        self.refused = []  # pushes the subscriber refused (4xx), with its answer
        self.nonces = set()
        self.down = False
        self.auto_push = True
        self.pushed = 0
        self.last_push = None  # (body, headers) of the last acknowledged push, for the replay drill

    def emit(self, serial: str, kind: str, data: dict | None = None, occurred_at: str | None = None) -> dict:
        with self.lock:
            event = {"event_id": f"{self.prefix}-{len(self.events) + 1:010d}", "device_serial": serial, "type": kind,
                     "occurred_at": occurred_at or _now(), "data": data or {}}
            self.events.append(event)
            self.outbox.append(event)
            device = self.devices.get(serial)
            if device is not None and kind == "heartbeat":
                device["last_heartbeat_at"] = event["occurred_at"]
            return event


def create_app(key_id: str = "wuye", secret: str = "sandbox-device-secret", push_url: str | None = None,
               push_interval: float = 0.5) -> Flask:
    app = Flask("sandbox_devices")
    state = PlatformState()
    app.platform_state = state
    config = {"push_url": push_url}

    def push_pending() -> dict:
        """Send the queued events in order until the subscriber stops acknowledging."""
        sent = 0
        with state.push_lock:
            while True:
                with state.lock:
                    target = config["push_url"]
                    if state.down or not target or not state.outbox:
                        return {"sent": sent, "pending": len(state.outbox)}
                    batch = [state.outbox[i] for i in range(min(PUSH_BATCH, len(state.outbox)))]
                body = json.dumps({"events": batch}, ensure_ascii=False).encode()
                headers = {"Content-Type": "application/json",
                           **sign_headers(secret, key_id, "POST", urlsplit(target).path, body)}
                try:
                    response = requests.post(target, data=body, headers=headers, timeout=10)
                except requests.RequestException:
                    return {"sent": sent, "pending": len(state.outbox), "error": "unreachable"}
                if response.status_code >= 500:
                    return {"sent": sent, "pending": len(state.outbox), "error": response.status_code}
                with state.lock:
                    for _ in batch:
                        state.outbox.popleft()
                    if response.status_code >= 400:  # refused: a vendor gives up on it and logs it
                        state.refused.append({"status": response.status_code, "answer": response.text[:500],
                                              "event_ids": [e["event_id"] for e in batch]})
                    else:
                        state.pushed += len(batch)
                        state.last_push = (body, headers)
                sent += len(batch)

    def drill(kind: str, raw: str | None = None) -> dict:
        """One bad push (see the module docstring); returns Wuye's status code and answer."""
        target = config["push_url"]
        path = urlsplit(target).path
        with state.lock:
            queued = [state.outbox[i] for i in range(min(PUSH_BATCH, len(state.outbox)))]
            last = state.last_push
        body = raw.encode() if raw is not None else json.dumps({"events": queued}, ensure_ascii=False).encode()
        headers = sign_headers(secret, key_id, "POST", path, body)
        if kind == "forged":
            headers = sign_headers("not-" + secret, key_id, "POST", path, body)
        elif kind == "unsigned":
            headers = {}
        elif kind == "stale":
            headers = sign_headers(secret, key_id, "POST", path, body, now=time.time() - 3600)
        elif kind in ("replayed", "tampered"):
            if last is None:
                abort(409)
            body = last[0] if kind == "replayed" else body
            headers = last[1]
        elif kind != "malformed":
            abort(404)
        response = requests.post(target, data=body, headers={**headers, "Content-Type": "application/json"},
                                 timeout=10)
        try:
            answer = response.json()
        except ValueError:
            answer = response.text[:500]
        return {"status": response.status_code, "answer": answer}

    def pusher():
        while True:
            time.sleep(push_interval)
            if state.auto_push and config["push_url"] and state.outbox and not state.down:
                try:
                    push_pending()
                except Exception:  # keep pushing whatever happens to one attempt
                    pass

    threading.Thread(target=pusher, daemon=True).start()

    @app.before_request
    def gate():
        if request.path.startswith("/_control/"):
            return None
        if state.down:
            return jsonify(error="unavailable"), 503

        def seen(nonce):
            with state.lock:
                if nonce in state.nonces:
                    return True
                state.nonces.add(nonce)
                return False
        try:
            verify(secret, request.method, request.path, request.headers, request.get_data(), seen_nonce=seen)
        except SignatureError as e:
            return jsonify(error=e.code), 401
        return None

    def _public(device: dict) -> dict:
        return {k: device[k] for k in ("serial", "kind", "model", "community_ref", "status", "last_heartbeat_at")}

    @app.get("/api/devices")
    def list_devices():
        with state.lock:
            return jsonify(devices=[_public(d) for d in state.devices.values()])

    @app.get("/api/devices/<serial>/status")
    def device_status(serial):
        with state.lock:
            device = state.devices.get(serial)
            if device is None:
                return jsonify(error="unknown_device"), 404
            return jsonify(_public(device))

    @app.get("/api/events")
    def events():
        try:
            cursor = max(0, int(request.args.get("cursor") or 0))
            limit = min(max(1, int(request.args.get("limit") or 100)), 1000)
        except ValueError:
            return jsonify(error="bad_cursor"), 400
        with state.lock:
            page = state.events[cursor:cursor + limit]
            return jsonify(events=page, cursor=str(cursor + len(page)), more=cursor + len(page) < len(state.events))

    # ------------------------------------------------------------ control (tests, demos)

    def _device(body) -> dict:
        device = state.devices.get(body.get("serial"))
        if device is None:
            abort(404)
        return device

    @app.post("/_control/<action>")
    def control(action):
        body = request.get_json(silent=True) or {}
        if action == "flush":
            return jsonify(push_pending())
        if action == "drill":
            return jsonify(drill(body.get("kind", ""), body.get("raw")))
        with state.lock:
            if action == "down":
                state.down = True
            elif action == "up":
                state.down = False
            elif action == "auto-push":
                state.auto_push = bool(body.get("on", True))
            elif action == "resend":  # the vendor resends everything (as after losing its acks)
                state.outbox.extend(state.events)
            elif action == "push-url":
                config["push_url"] = body.get("url") or None
            elif action == "devices":
                for item in body.get("devices", []):
                    state.devices[item["serial"]] = {
                        "serial": item["serial"], "kind": item.get("kind", "access"), "model": item.get("model", ""),
                        "community_ref": item.get("community_ref", ""), "status": "online", "silent": False,
                        "last_heartbeat_at": None}
            elif action == "heartbeat":
                serials = body.get("serials") or [s for s, d in state.devices.items() if not d["silent"]]
                data = {"health": "ok"} if body.get("health", "ok") == "ok" else {}
                emitted = [state.emit(s, "heartbeat", dict(data), body.get("occurred_at")) for s in serials
                           if not state.devices.get(s, {}).get("silent")]
                return jsonify(events=emitted)
            elif action == "emit":
                return jsonify(state.emit(body["serial"], body["type"], body.get("data"), body.get("occurred_at")))
            elif action == "fault":
                device = _device(body)
                device["status"] = "fault"
                return jsonify(state.emit(device["serial"], body.get("type", "device_fault"), body.get("data"),
                                          body.get("occurred_at")))
            elif action == "recover":
                device = _device(body)
                device["status"], device["silent"] = "online", False
                return jsonify(state.emit(device["serial"], "recovered", {"health": "ok"}, body.get("occurred_at")))
            elif action == "silence":
                device = _device(body)
                device["silent"], device["status"] = True, "offline"
            else:
                abort(404)
        return jsonify(ok=True)

    @app.get("/_control/state")
    def control_state():
        with state.lock:
            return jsonify(down=state.down, devices=list(state.devices.values()), events=len(state.events),
                           pending=len(state.outbox), pushed=state.pushed, refused=state.refused,
                           push_url=config["push_url"])

    return app


def main():
    parser = argparse.ArgumentParser(description="Wuye sandbox device platform")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--key-id", default="wuye")
    parser.add_argument("--secret", default="sandbox-device-secret")
    parser.add_argument("--push-url")
    parser.add_argument("--demo", action="store_true", help="report heartbeats for the demo devices every minute")
    args = parser.parse_args()
    app = create_app(args.key_id, args.secret, args.push_url)
    if args.demo:
        start_demo(app.platform_state)
    app.run(args.host, args.port, threaded=True)


DEMO_SERIALS = {"DEMO-ELV-0001": "elevator", "DEMO-ACC-0001": "access", "DEMO-CAM-0001": "video",
                "DEMO-STF-0001": "staff", "DEMO-ELV-0101": "elevator", "DEMO-ACC-0101": "access"}


def start_demo(state: PlatformState, every: float = 60) -> None:
    """The demo devices of `flask demo seed` report a heartbeat every minute, and the staff
    terminal a check-in now and then."""
    with state.lock:
        for serial, kind in DEMO_SERIALS.items():
            state.devices[serial] = {"serial": serial, "kind": kind, "model": "ZL-2000", "community_ref": "",
                                     "status": "online", "silent": False, "last_heartbeat_at": None}

    def beat():
        n = 0
        while True:
            for serial, device in list(state.devices.items()):
                if not device["silent"] and device["status"] != "offline":
                    state.emit(serial, "heartbeat", {"health": "ok"} if device["status"] == "online" else {})
            if n % 30 == 0:
                state.emit("DEMO-STF-0001", "staff_checkin", {"staff_id": f"S-{n % 4 + 1:03d}"})
            n += 1
            time.sleep(every)

    threading.Thread(target=beat, daemon=True).start()


if __name__ == "__main__":
    main()
