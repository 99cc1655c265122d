"""A stand-in of the 12345 government hotline platform.

It receives our signed replies to work orders (POST /work-orders/<no>/reply; a reply to the
same work order again is kept once and answered with the same receipt) and can push signed
work orders to Wuye (POST /_control/push with the work order as JSON and the target URL).
/_control/ is unsigned, for tests and demos: /_control/down (for good, or for the next n
reply calls) and /up make the reply endpoint answer 503 or work again; /_control/state shows the replies kept and every reply call
received (work order, HTTP status), so a test can tell a retry from a second answer.

Run: python -m sandbox.hotline [--host 0.0.0.0] --port 8103 [--wuye-url http://127.0.0.1:5000]
"""
import argparse
import json
import threading
import uuid
from urllib.parse import urlsplit

import requests
from flask import Flask, jsonify, request

from app.integrations.signing import SignatureError, sign_headers, verify


def create_app(key_id: str = "wuye", secret: str = "sandbox-hotline-secret", wuye_url: str = "") -> Flask:
    app = Flask("sandbox_hotline")
    lock = threading.Lock()
    state = {"replies": {}, "nonces": set(), "down": False, "calls": []}

    def seen(nonce):
        with lock:
            if nonce in state["nonces"]:
                return True
            state["nonces"].add(nonce)
            return False

    @app.post("/work-orders/<number>/reply")
    def reply(number):
        response, status = _reply(number)
        with lock:
            state["calls"].append({"work_order_no": number, "status": status})
        return response, status

    def _reply(number):
        if state["down"]:
            if state["down"] is not True:  # down for a number of calls, then back
                state["down"] -= 1
            return jsonify(error="unavailable"), 503
        try:
            verify(secret, request.method, request.path, request.headers, request.get_data(), seen_nonce=seen)
        except SignatureError as e:
            return jsonify(error=e.code), 401
        body = request.get_json(silent=True) or {}
        if not (body.get("content") or "").strip():
            return jsonify(error="no_content", message="reply content is required"), 422
        with lock:
            existing = state["replies"].get(number)
            if existing is None:
                existing = {"receipt": f"HL-{uuid.uuid4().hex[:10]}", "work_order_no": number, **body}
                state["replies"][number] = existing
        return jsonify(status="received", receipt=existing["receipt"]), 200

    @app.get("/_control/state")
    def control_state():
        return jsonify(replies=state["replies"], calls=state["calls"])

    @app.post("/_control/<any(down, up):what>")
    def control_down(what):
        """down: until /up, or with {"calls": n} for the next n reply calls only."""
        calls = (request.get_json(silent=True) or {}).get("calls")
        state["down"] = (int(calls) if calls else True) if what == "down" else False
        return jsonify(down=state["down"])

    @app.post("/_control/push")
    def push():
        """Push a work order to Wuye, signed (what the real platform does)."""
        target = (request.args.get("url") or wuye_url).rstrip("/") + "/api/v1/integrations/hotline/work-orders"
        body = json.dumps(request.get_json(silent=True) or {}, ensure_ascii=False).encode()
        headers = sign_headers(secret, key_id, "POST", urlsplit(target).path, body)
        headers["Content-Type"] = "application/json"
        response = requests.post(target, data=body, headers=headers, timeout=10)
        return jsonify(status=response.status_code, body=response.json()), 200

    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--key-id", default="wuye")
    parser.add_argument("--secret", default="sandbox-hotline-secret")
    parser.add_argument("--wuye-url", default="http://127.0.0.1:5000")
    args = parser.parse_args()
    create_app(args.key_id, args.secret, args.wuye_url).run(host=args.host, port=args.port)


if __name__ == "__main__":
    main()
