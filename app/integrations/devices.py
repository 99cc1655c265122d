"""Client of a device vendor's open platform (the sandbox in development): the devices it
knows with their status, and its event log read by cursor. Every request is signed.

A connection error, time-out or 5xx raises DevicePlatformUnavailable (the poll job tries
again next time from the same cursor, so nothing is lost); a 4xx raises DevicePlatformRejected.
"""
import json
from urllib.parse import quote, urlsplit

import requests

from app.integrations.signing import sign_headers


class DevicePlatformUnavailable(Exception):
    pass


class DevicePlatformRejected(Exception):
    def __init__(self, code: str, message: str = ""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class DevicePlatformClient:
    def __init__(self, base_url: str, key_id: str, secret: str, timeout: float = 5):
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self.secret = secret
        self.timeout = timeout

    def _get(self, path: str, params: dict | None = None) -> dict:
        url = self.base_url + path
        headers = sign_headers(self.secret, self.key_id, "GET", urlsplit(url).path, b"")
        try:
            response = requests.get(url, params=params, headers=headers, timeout=self.timeout)
        except requests.RequestException as e:
            raise DevicePlatformUnavailable(f"{type(e).__name__}: {e}") from e
        if response.status_code >= 500:
            raise DevicePlatformUnavailable(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except (ValueError, json.JSONDecodeError):
            raise DevicePlatformUnavailable(f"HTTP {response.status_code}: not JSON")
        if response.status_code >= 400:
            raise DevicePlatformRejected(data.get("error", str(response.status_code)), data.get("message", ""))
        return data

    def devices(self) -> list[dict]:
        """Every device the platform knows: serial, kind, model, status, last_heartbeat_at."""
        return self._get("/api/devices")["devices"]

    def status(self, serial: str) -> dict:
        return self._get(f"/api/devices/{quote(serial, safe='')}/status")

    def events(self, cursor: str = "0", limit: int = 500) -> dict:
        """{"events": [...], "cursor": next cursor, "more": bool}: the events after `cursor`."""
        return self._get("/api/events", params={"cursor": cursor or "0", "limit": limit})


def client_from_config(config) -> DevicePlatformClient:
    return DevicePlatformClient(config["DEVICE_PLATFORM_URL"], config["DEVICE_KEY_ID"], config["DEVICE_SECRET"],
                                timeout=config.get("DEVICE_TIMEOUT", 5))
