"""Device ingestion benchmark: register 10 000 devices (bulk insert), then ingest 1 000 000
events from them through the real ingestion path — `device_events.clean_events` (the checks
every push and polled page goes through) then `device_events.ingest` and a commit, one batch
at a time, as a polled page is delivered. Prints events/s, RSS at several points (it must stay
flat as the event count grows), peak RSS, and the cost of re-ingesting a slice that is all
duplicates.

    .venv/bin/python bench/devices.py [--events 1000000] [--devices 10000] [--batch 1000]
                                      [--database postgresql|sqlite]

Batch size: 1 000 events, the largest page the platform serves (`limit` ≤ 1000) and the most
one push may carry (device_events.MAX_BATCH); a busy platform is read in full pages. The mix
is the platform's everyday traffic: heartbeats (half), door openings, staff check-ins and
face recognitions; every device is registered offline, so its first heartbeat brings it online
through the status path (10 000 status changes within the run).

It creates and drops its own PostgreSQL database (127.0.0.1, trust auth) or a temporary SQLite file.
"""
import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COMMUNITIES = 100
MIX = (("heartbeat", {"health": "ok"}), ("door_open", {"door": "东门"}), ("heartbeat", {"health": "ok"}),
       ("staff_checkin", {"staff_id": "S-001"}), ("heartbeat", {"health": "ok"}), ("face_recognised", {"person": "住户"}),
       ("heartbeat", {"health": "ok"}), ("door_open", {"door": "西门"}), ("heartbeat", {"health": "ok"}),
       ("staff_checkin", {"staff_id": "S-002"}))


def rss_mb() -> float:
    """Resident memory now (Linux /proc; psutil is not a dependency of the project)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_app(url: str):
    os.environ["INSTANCE_PATH"] = tempfile.mkdtemp()
    from flask_migrate import upgrade

    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        upgrade(revision="heads")
    return app


def register_devices(count: int) -> list[str]:
    """Communities, one supplier and `count` devices (offline, as registration leaves them),
    each with its open status period, inserted in bulk."""
    from app.extensions import db
    from app.models import Device, DeviceStatusPeriod
    from tests.factories import Factory
    factory = Factory()
    office, enterprise, supplier = factory.street_office("基准街道"), factory.enterprise(), factory.supplier()
    communities = [factory.community(enterprise=enterprise, street_office=office).id for _ in range(COMMUNITIES)]
    since = datetime.now(timezone.utc) - timedelta(days=40)
    kinds = ("elevator", "access", "video", "staff")
    serials = [f"BENCH-{i:06d}" for i in range(count)]
    for start in range(0, count, 5000):
        db.session.execute(sa.insert(Device), [
            {"community_id": communities[i % COMMUNITIES], "supplier_id": supplier.id, "kind": kinds[i % 4],
             "serial": serials[i], "model": "ZL-2000", "location": f"{i % 30 + 1} 栋", "installed_on": date(2026, 1, 5),
             "owner": "enterprise", "status": "offline", "status_since": since, "created_at": since}
            for i in range(start, min(count, start + 5000))])
    db.session.execute(sa.insert(DeviceStatusPeriod).from_select(
        ["device_id", "status", "started_at"],
        sa.select(Device.id, sa.literal("offline"), Device.status_since).where(Device.serial.like("BENCH-%"))))
    db.session.commit()
    return serials


def batches(serials: list[str], first: int, total: int, size: int, start: datetime, prefix: str):
    """The events first … first+total-1 as the platform would send them (JSON-shaped dicts),
    `size` at a time; generated lazily so the benchmark itself holds one batch."""
    n = len(serials)
    for lo in range(first, first + total, size):
        batch = []
        for i in range(lo, min(first + total, lo + size)):
            kind, data = MIX[(i // n) % len(MIX)]
            batch.append({"event_id": f"{prefix}-{i:010d}", "device_serial": serials[i % n], "type": kind,
                          "occurred_at": (start + timedelta(milliseconds=i * 2)).isoformat(), "data": data})
        yield batch


def ingest_all(serials, first, total, size, start, prefix, checkpoints=0):
    """Feed the batches through clean_events → ingest → commit; returns (totals, seconds)."""
    from app.extensions import db
    from app.services import device_events
    totals = {"accepted": 0, "duplicates": 0, "unknown": 0}
    elapsed, done, every = 0.0, 0, total // checkpoints if checkpoints else 0
    mark_t, mark_n = 0.0, 0
    for batch in batches(serials, first, total, size, start, prefix):
        t0 = time.perf_counter()
        result = device_events.ingest(device_events.clean_events({"events": batch}), "poll")
        db.session.commit()
        elapsed += time.perf_counter() - t0
        for key in totals:
            totals[key] += result[key]
        done += len(batch)
        if every and (done % every < size or done == total):
            rate = (done - mark_n) / (elapsed - mark_t) if elapsed > mark_t else 0
            print(f"  {done:>10,} events  {rate:>8,.0f} events/s in this stretch  RSS {rss_mb():6.1f} MB", flush=True)
            mark_t, mark_n = elapsed, done
    return totals, elapsed


def run(url: str, args) -> None:
    app = make_app(url)
    from app.extensions import db
    from app.models import Device, DeviceEvent
    with app.app_context():
        t0 = time.perf_counter()
        serials = register_devices(args.devices)
        print(f"registered {len(serials):,} devices in {COMMUNITIES} communities (bulk insert) "
              f"in {time.perf_counter() - t0:.1f} s; RSS {rss_mb():.1f} MB")

        # Events of the last ~days, ending before now (clean_events refuses future times).
        start = datetime.now(timezone.utc) - timedelta(milliseconds=args.events * 2 + 60_000)
        prefix = uuid.uuid4().hex[:8]
        print(f"ingesting {args.events:,} events in batches of {args.batch:,} (clean_events → ingest → commit):")
        totals, elapsed = ingest_all(serials, 0, args.events, args.batch, start, prefix, checkpoints=10)
        online = db.session.scalar(sa.select(sa.func.count()).select_from(Device).where(Device.status == "online"))
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(DeviceEvent))
        print(f"ingested {totals['accepted']:,} events in {elapsed:.1f} s: {totals['accepted'] / elapsed:,.0f} events/s; "
              f"{stored:,} rows stored, {online:,} devices online; peak RSS {peak_mb():.0f} MB")

        again = min(args.events, max(args.batch, args.events // 10))
        totals, elapsed = ingest_all(serials, args.events - again, again, args.batch, start, prefix)
        stored_after = db.session.scalar(sa.select(sa.func.count()).select_from(DeviceEvent))
        print(f"re-ingested the last {again:,} events: {totals['accepted']} accepted, {totals['duplicates']:,} duplicates "
              f"refused in {elapsed:.1f} s ({again / elapsed:,.0f} events/s); rows {stored_after - stored:+d}")
        print(f"peak RSS of the benchmark process: {peak_mb():.0f} MB")
        db.engine.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            print("[SQLite]")
            run(f"sqlite:///{tmp}/bench.db", args)
        return
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    name = f"wuye_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        print("[PostgreSQL]")
        run(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", args)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
