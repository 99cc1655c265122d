"""Client of the 12345 government hotline platform's reply callback (the sandbox in
development): we answer a work order back, signed like every integration call.

A connection error, time-out or 5xx raises HotlineUnavailable (the job retries; the
platform keys replies by work-order number, so a repeat is harmless); a 4xx raises
HotlineRejected.
"""
import json
from urllib.parse import quote, urlsplit

import requests

from app.integrations.signing import sign_headers


class HotlineUnavailable(Exception):
    pass


class HotlineRejected(Exception):
    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class HotlineClient:
    def __init__(self, base_url: str, key_id: str, secret: str, timeout: float = 5):
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self.secret = secret
        self.timeout = timeout

    def reply(self, work_order_no: str, payload: dict) -> dict:
        url = f"{self.base_url}/work-orders/{quote(work_order_no, safe='')}/reply"
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = sign_headers(self.secret, self.key_id, "POST", urlsplit(url).path, body)
        headers["Content-Type"] = "application/json"
        try:
            response = requests.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as e:
            raise HotlineUnavailable(f"{type(e).__name__}: {e}") from e
        if response.status_code >= 500:
            raise HotlineUnavailable(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise HotlineUnavailable(f"HTTP {response.status_code}: not JSON")
        if response.status_code >= 400:
            raise HotlineRejected(data.get("error", str(response.status_code)), data.get("message", ""))
        return data


def client_from_config(config) -> HotlineClient:
    return HotlineClient(config["HOTLINE_URL"], config["HOTLINE_KEY_ID"], config["HOTLINE_SECRET"],
                         timeout=config.get("HOTLINE_TIMEOUT", 5))
