"""Public community page benchmark: 2 000 communities with a disclosed evaluation each (12
items, a breakdown of 14 lines); prints requests per second for the community page with the
cache cold (every request builds the body) and warm, and for the ranking page.

    /work/main/.venv/bin/python bench/public_pages.py [--communities 2000] [--requests 2000]

Uses its own SQLite file built by the migrations (set DATABASE_URL for PostgreSQL).
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def seed(n: int) -> list[int]:
    from app.extensions import db
    from app.models import Community, Enterprise, Evaluation, StreetOffice
    from app.services import scoring
    standard = scoring.seed_default(2026)
    office = StreetOffice(name="乾州街道")
    db.session.add(office)
    db.session.flush()
    enterprises = []
    for i in range(max(1, n // 10)):
        e = Enterprise(name=f"基准物业{i}", uscc=f"91433101{i:010d}", star_rating=3)
        db.session.add(e)
        enterprises.append(e)
    db.session.flush()
    ids = []
    for i in range(n):
        c = Community(name=f"基准小区{i}", street_office_id=office.id, enterprise_id=enterprises[i % len(enterprises)].id,
                      grade="B")
        db.session.add(c)
        db.session.flush()
        lines = [{"kind": "score", "item_code": item.code, "points": str(item.max_points),
                  "department": item.department, "task_id": 1, "title": ""} for item in standard.items]
        lines += [{"kind": "input", "item_code": "B1", "points": "-1.00", "source": "inspection", "source_id": 1,
                   "title": "日常考核"}] * 2
        total = sum(Decimal(x["points"]) for x in lines)
        db.session.add(Evaluation(year=2026, standard_id=standard.id, enterprise_id=c.enterprise_id, community_id=c.id,
                                  scoring_due=date(2026, 12, 15), status="final", total=total, star_rating=3, grade="B",
                                  breakdown={"lines": lines, "total": str(total)}))
        ids.append(c.id)
    db.session.commit()
    return ids


def rate(client, urls) -> float:
    started = time.perf_counter()
    for url in urls:
        assert client.get(url).status_code == 200
    return len(urls) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--communities", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite"
    env = {**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": tmp, "FLASK_APP": "app"}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade", "heads"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    from app import create_app
    from app.services import evaluation
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None,
                      "RATELIMIT_ENABLED": False, "TESTING": False})
    with app.app_context():
        ids = seed(args.communities)
        client = app.test_client()
        pages = [f"/public/evaluation/communities/{random.choice(ids)}" for _ in range(args.requests)]
        evaluation._public_cache.clear()
        cold = []
        started = time.perf_counter()
        for page in pages[:500]:
            evaluation._public_cache.clear()
            assert client.get(page).status_code == 200
            cold.append(page)
        cold_rate = len(cold) / (time.perf_counter() - started)
        for page in set(pages):
            client.get(page)
        warm_rate = rate(client, pages)
        ranking_rate = rate(client, ["/public/evaluation/ranking"] * 200)
    print(f"communities: {len(ids)}")
    print(f"community page, cache cold: {cold_rate:8.0f} req/s (one process)")
    print(f"community page, cache warm: {warm_rate:8.0f} req/s (one process)")
    print(f"ranking page ({len(ids)} rows), warm: {ranking_rate:8.0f} req/s")


if __name__ == "__main__":
    main()
