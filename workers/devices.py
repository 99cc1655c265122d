"""Device jobs: poll the platform (events by cursor, device status), detect devices whose
heartbeats stopped, start repair processes and deliver healthy reports, summarise days and
purge old raw events. Each is safe to run twice, or on two workers at once."""
from app.services import device_events, devices


def poll() -> dict:
    """Every minute: events since the cursor, the platform's device list, offline devices,
    and the repair-case safety net."""
    result = device_events.poll_events()
    if not result.get("failed"):
        result["status"] = device_events.poll_status()
        result["offline"] = device_events.detect_offline()
    result["repairs"] = devices.sweep_repairs()
    return result


def daily() -> dict:
    """Hourly: yesterday's and today's summaries; raw events past retention are deleted."""
    return {"summaries": device_events.summarise_days(), "purged": device_events.purge_old_events()}


def start_repair(case_id: int) -> None:
    devices.start_repair(case_id)


def deliver_healthy(case_id: int) -> None:
    devices.deliver_healthy(case_id)
