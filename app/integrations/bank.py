"""Client of the custodian bank's direct-connect gateway (the sandbox in development).

Every request is signed. Amounts travel as strings ("1234.50"), never floats. A
connection error, time-out or 5xx raises BankUnavailable: the outcome is *unknown*, so the
caller retries with the same instruction reference (the bank never pays a reference twice)
instead of treating it as a failure. A 4xx business refusal raises BankRejected.
"""
import json
from decimal import Decimal
from urllib.parse import urlsplit

import requests

from app.integrations.signing import sign_headers


class BankUnavailable(Exception):
    pass


class BankRejected(Exception):
    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class BankClient:
    def __init__(self, base_url: str, key_id: str, secret: str, timeout: float = 5):
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self.secret = secret
        self.timeout = timeout

    def _call(self, method: str, path: str, payload: dict | None = None, params: dict | None = None) -> dict:
        url = self.base_url + path
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        headers = sign_headers(self.secret, self.key_id, method, urlsplit(url).path, body)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = requests.request(method, url, data=body or None, params=params, headers=headers,
                                        timeout=self.timeout)
        except requests.RequestException as e:
            raise BankUnavailable(f"{type(e).__name__}: {e}") from e
        if response.status_code >= 500:
            raise BankUnavailable(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise BankUnavailable(f"HTTP {response.status_code}: not JSON")
        if response.status_code >= 400:
            raise BankRejected(data.get("error", str(response.status_code)), data.get("message", ""))
        return data

    def open_account(self, community_ref: str, account_name: str) -> dict:
        return self._call("POST", "/accounts", {"community_ref": community_ref, "account_name": account_name})

    def balance(self, account_no: str) -> dict:
        return self._call("GET", f"/accounts/{account_no}/balance")

    def statement(self, account_no: str, cursor: int | None = None) -> dict:
        return self._call("GET", f"/accounts/{account_no}/statement", params={"cursor": cursor or 0, "limit": 500})

    def send_instruction(self, reference: str, from_account: str, to_account: str, to_name: str, amount: Decimal,
                         purpose: str) -> dict:
        if not isinstance(amount, Decimal):
            raise TypeError("amount must be a Decimal")
        return self._call("POST", "/instructions", {
            "reference": reference, "from_account": from_account, "to_account": to_account, "to_name": to_name,
            "amount": str(amount.quantize(Decimal("0.01"))), "purpose": purpose})

    def instruction_status(self, reference: str) -> dict:
        return self._call("GET", f"/instructions/{reference}")


def client_from_config(config) -> BankClient:
    return BankClient(config["BANK_GATEWAY_URL"], config["BANK_KEY_ID"], config["BANK_SECRET"],
                      timeout=config.get("BANK_TIMEOUT", 5))
