"""A stand-in of a custodian bank's enterprise direct-connect (银企直连) gateway.

Signed requests only (HMAC, see app/integrations/signing.py). Payment instructions are
keyed by the client's unique reference: a repeated reference returns the same instruction
and never pays twice. Instructions go processing → success | failed | returned (a returned
one moves no money here), or "unknown" until settled; each executed one is a debit on the
statement carrying its reference. Incoming payments and final results are notified,
signed, to --notify-url (resent on 5xx).
/_control/ (unsigned) lets tests and demos deposit payments, debit the account from the
bank's side, put a raw (even malformed) line on the statement and correct it, settle
instructions or mark them unknown, hold notifications and flush them, send a notification
again or a tampered one (bad signature, old timestamp, replayed nonce) and see Wuye's
answer, fail or delay the next call, and take the bank down.

Run: python -m sandbox.bank --port 8101 [--notify-url URL]
"""
import argparse
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

import requests
from flask import Flask, abort, jsonify, request

from app.integrations.signing import SignatureError, sign_headers, verify
from app.validators import luhn_check_digit

CENT = Decimal("0.01")


class BankState:
    def __init__(self):
        self.lock = threading.RLock()
        self.accounts = {}  # account_no -> {name, community_ref, balance: Decimal, transactions: []}
        self.instructions = {}  # reference -> dict
        self.serial = 0
        self.nonces = set()
        self.down = False
        self.fail_next = None
        self.delay_next = 0.0
        self.auto_settle = True
        self.auto_notify = True
        self.outbox = []  # notifications held while auto_notify is off
        self.notified = []  # every notification payload, for sending one again

    def next_serial(self) -> str:
        self.serial += 1
        return f"SB{self.serial:010d}"

    def new_account_no(self) -> str:
        body = "62170" + f"{len(self.accounts) + 1:013d}"
        return body + luhn_check_digit(body)

    def post(self, account_no, amount: Decimal, direction: str, counterparty: str, memo: str,
             reference: str | None = None) -> dict:
        account = self.accounts[account_no]
        account["balance"] += amount if direction == "credit" else -amount
        tx = {"serial": self.next_serial(), "account_no": account_no, "direction": direction,
              "amount": str(amount), "counterparty": counterparty, "memo": memo,
              "at": datetime.now(timezone.utc).isoformat(), "balance_after": str(account["balance"])}
        if reference:
            tx["reference"] = reference
        account["transactions"].append(tx)
        return tx


def _money(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, TypeError):
        abort(400, "bad amount")
    if amount <= 0 or Decimal(str(value)) != amount:
        abort(400, "bad amount")
    return amount


def create_app(key_id: str = "wuye", secret: str = "sandbox-bank-secret", notify_url: str | None = None,
               notify_secret: str | None = None) -> Flask:
    app = Flask("sandbox_bank")
    state = BankState()
    app.bank_state = state

    def deliver(payload: dict, tamper: str | None = None) -> list[dict]:
        """POST one signed notification to Wuye now; Wuye's answers. `tamper`: "signature"
        (signed with a wrong secret), "expired" (an hour old) or "replay" (sent twice with
        the same nonce)."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        path = "/" + notify_url.split("://", 1)[-1].split("/", 1)[-1]
        headers = {"Content-Type": "application/json", **sign_headers(
            "forged-" + (notify_secret or secret) if tamper == "signature" else notify_secret or secret, key_id,
            "POST", path, body, now=time.time() - 3600 if tamper == "expired" else None)}
        answers = []
        for _ in range(2 if tamper == "replay" else 1):
            response = requests.post(notify_url, data=body, headers=headers, timeout=30)
            try:
                answer = response.json()
            except ValueError:
                answer = response.text
            answers.append({"status_code": response.status_code, "body": answer})
        return answers

    def notify(payload: dict) -> None:
        if not notify_url:
            return
        with state.lock:
            state.notified.append(payload)
            if not state.auto_notify:
                state.outbox.append(payload)
                return

        def send():
            for attempt in range(5):
                try:
                    if deliver(payload)[0]["status_code"] < 500:
                        return
                except requests.RequestException:
                    pass
                time.sleep(0.5 * (attempt + 1))

        threading.Thread(target=send, daemon=True).start()

    @app.before_request
    def gate():
        if request.path.startswith("/_control/"):
            return None
        with state.lock:
            if state.down:
                return jsonify(error="unavailable"), 503
            if state.fail_next:
                code, state.fail_next = state.fail_next, None
                return jsonify(error="injected_failure"), code
        try:
            def seen(nonce):
                with state.lock:
                    if nonce in state.nonces:
                        return True
                    state.nonces.add(nonce)
                    return False
            verify(secret, request.method, request.path, request.headers, request.get_data(), seen_nonce=seen)
        except SignatureError as e:
            return jsonify(error=e.code), 401
        return None

    @app.after_request
    def slow_down(response):
        if not request.path.startswith("/_control/"):
            with state.lock:
                delay, state.delay_next = state.delay_next, 0.0
            if delay:
                time.sleep(delay)  # the work is done; the answer comes too late for the client
        return response

    @app.post("/accounts")
    def open_account():
        body = request.get_json(force=True)
        with state.lock:
            for number, account in state.accounts.items():
                if account["community_ref"] == body.get("community_ref"):
                    return jsonify(account_no=number, account_name=account["name"], balance=str(account["balance"]))
            number = state.new_account_no()
            state.accounts[number] = {"name": body.get("account_name", ""), "community_ref": body.get("community_ref"),
                                      "balance": Decimal("0.00"), "transactions": []}
        return jsonify(account_no=number, account_name=body.get("account_name", ""), balance="0.00"), 201

    def _account(number):
        account = state.accounts.get(number)
        if account is None:
            abort(404)
        return account

    @app.get("/accounts/<number>/balance")
    def balance(number):
        with state.lock:
            return jsonify(account_no=number, balance=str(_account(number)["balance"]))

    @app.get("/accounts/<number>/statement")
    def statement(number):
        cursor = int(request.args.get("cursor") or 0)
        limit = min(int(request.args.get("limit") or 100), 500)
        with state.lock:
            txs = _account(number)["transactions"]
            page = txs[cursor:cursor + limit]
            return jsonify(account_no=number, transactions=page, cursor=cursor + len(page),
                           more=cursor + len(page) < len(txs))

    @app.post("/instructions")
    def send_instruction():
        body = request.get_json(force=True)
        reference = str(body.get("reference") or "")
        if not reference:
            return jsonify(error="missing_reference"), 400
        amount = _money(body.get("amount"))
        with state.lock:
            existing = state.instructions.get(reference)
            if existing is not None:
                same = (existing["amount"] == str(amount) and existing["from_account"] == body.get("from_account")
                        and existing["to_account"] == body.get("to_account"))
                if not same:
                    return jsonify(error="reference_reused", message="该业务参考号已用于另一笔指令"), 409
                existing["sends"] += 1  # the same reference again: answered, never executed again
                return jsonify(existing)
            account = state.accounts.get(body.get("from_account"))
            if account is None:
                return jsonify(error="unknown_account"), 422
            instruction = {"reference": reference, "bank_ref": "BK" + uuid.uuid4().hex[:12].upper(),
                           "from_account": body.get("from_account"), "to_account": body.get("to_account"),
                           "to_name": body.get("to_name", ""), "amount": str(amount),
                           "purpose": body.get("purpose", ""), "status": "processing", "serial": None, "sends": 1}
            state.instructions[reference] = instruction
            if state.auto_settle:
                _settle(instruction, "success")
            return jsonify(instruction), 201

    def _settle(instruction, result, reason=None):
        if instruction["status"] not in ("processing", "unknown"):
            return
        if result == "unknown":  # the bank itself cannot tell yet: no notification
            instruction["status"] = "unknown"
            return
        account = state.accounts[instruction["from_account"]]
        if result == "success" and account["balance"] < Decimal(instruction["amount"]):
            result, reason = "failed", "insufficient_funds"
        if result == "success":
            tx = state.post(instruction["from_account"], Decimal(instruction["amount"]), "debit",
                            instruction["to_name"] or instruction["to_account"], instruction["purpose"],
                            reference=instruction["reference"])
            instruction["serial"] = tx["serial"]
        elif reason or result == "returned":
            instruction["reason"] = reason or "returned"
        instruction["status"] = result
        notify({"type": "instruction", "reference": instruction["reference"], "status": result,
                "bank_ref": instruction["bank_ref"], "serial": instruction["serial"],
                "reason": instruction.get("reason", "")})

    @app.get("/instructions/<reference>")
    def instruction_status(reference):
        with state.lock:
            instruction = state.instructions.get(reference)
            if instruction is None:
                return jsonify(error="unknown_reference"), 404
            return jsonify(instruction)

    # ------------------------------------------------------------ control (tests, demos)

    @app.post("/_control/<action>")
    def control(action):
        body = request.get_json(silent=True) or {}
        if action in ("notify", "renotify", "flush-notifications"):
            if not notify_url:
                return jsonify(error="no_notify_url", message="started without --notify-url"), 409
            return jsonify(answers=_send_now(action, body))  # outside the lock: Wuye may call the bank back
        with state.lock:
            if action == "down":
                state.down = True
            elif action == "up":
                state.down = False
            elif action == "fail-next":
                state.fail_next = int(body.get("status", 500))
            elif action == "timeout-next":
                state.delay_next = float(body.get("seconds", 10))
            elif action == "auto-settle":
                state.auto_settle = bool(body.get("on", True))
            elif action == "auto-notify":
                state.auto_notify = bool(body.get("on", True))
            elif action == "debit":  # the bank's own debit (a fee, a court's deduction): no instruction of ours
                amount = _money(body.get("amount"))
                return jsonify(state.post(body["account_no"], amount, "debit", body.get("payee", "托管银行"),
                                          body.get("memo", "扣款")))
            elif action == "inject":  # a raw statement line as given, malformed or not; the balance is untouched
                tx = {"serial": state.next_serial(), "account_no": body["account_no"], "direction": "credit",
                      "counterparty": "业主", "memo": "物业费", "at": datetime.now(timezone.utc).isoformat(),
                      **body.get("transaction", {})}
                state.accounts[body["account_no"]]["transactions"].append(tx)
                return jsonify(tx)
            elif action == "correct":  # the bank corrects a line of its statement (a credit, now well formed)
                lines = state.accounts[body["account_no"]]["transactions"]
                line = next(t for t in lines if t["serial"] == body["serial"])
                amount = _money(body.get("amount"))
                line.update(amount=str(amount), direction="credit")
                state.accounts[body["account_no"]]["balance"] += amount
                return jsonify(line)
            elif action == "deposit":
                amount = _money(body.get("amount"))
                tx = state.post(body["account_no"], amount, "credit", body.get("payer", "业主"), body.get("memo", "物业费"))
                notify({"type": "transaction", **tx})
                return jsonify(tx)
            elif action == "seed":
                # Load testing: N accounts with M owner payments each, generated in memory.
                numbers = []
                for i in range(int(body.get("accounts", 1))):
                    number = state.new_account_no()
                    state.accounts[number] = {"name": f"seed-{i}", "community_ref": f"seed-{i}",
                                              "balance": Decimal("0.00"), "transactions": []}
                    for j in range(int(body.get("transactions", 1))):
                        state.post(number, Decimal(f"{(j % 500) + 1}.{j % 100:02d}"), "credit", "业主", "物业费")
                    numbers.append(number)
                return jsonify(accounts=numbers)
            elif action == "settle":
                targets = [state.instructions[body["reference"]]] if body.get("reference") else \
                    [i for i in state.instructions.values() if i["status"] in ("processing", "unknown")]
                for instruction in targets:
                    _settle(instruction, body.get("result", "success"), body.get("reason"))
            else:
                abort(404)
        return jsonify(ok=True)

    def _send_now(action, body) -> list[dict]:
        """Notifications sent at once, with Wuye's answers: one given (maybe tampered), one
        sent before again with a fresh signature (a duplicate), or those held back."""
        if action == "notify":
            return deliver(body["payload"], body.get("tamper"))
        if action == "renotify":
            with state.lock:
                payload = next(p for p in reversed(state.notified) if
                               (body.get("serial") and p.get("serial") == body["serial"] and p["type"] == "transaction")
                               or (body.get("reference") and p.get("reference") == body["reference"]))
            return deliver(payload)
        with state.lock:
            held, state.outbox = state.outbox, []
        return [answer for payload in held for answer in deliver(payload)]

    @app.get("/_control/state")
    def control_state():
        with state.lock:
            return jsonify(down=state.down, instructions=list(state.instructions.values()),
                           accounts={n: {"name": a["name"], "balance": str(a["balance"]),
                                         "transactions": len(a["transactions"])} for n, a in state.accounts.items()})

    return app


def main():
    parser = argparse.ArgumentParser(description="Wuye sandbox bank gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--key-id", default="wuye")
    parser.add_argument("--secret", default="sandbox-bank-secret")
    parser.add_argument("--notify-url")
    parser.add_argument("--notify-secret")
    args = parser.parse_args()
    create_app(args.key_id, args.secret, args.notify_url, args.notify_secret).run(args.host, args.port, threaded=True)


if __name__ == "__main__":
    main()
