"""A paired A/B of two checkouts of the code: what a completion costs in each, measured in turns.

This machine's speed drifts by half within minutes, so two benchmark runs one after the other
compare the machine more than the code. Here each checkout runs in a long-lived process of
its own (its own PostgreSQL database, its own app, its code imported from its checkout), and
the two take turns, a batch of cases each, starting each round with the other; the CPU and
wall time of the completions themselves are measured, and each round gives a ratio B/A of
two batches taken at nearly the same time.

    .venv/bin/python bench/engine_ab.py BASE_CHECKOUT [NEW_CHECKOUT] [--mode api|minimal|service]
                                         [--cases 20] [--rounds 11]

e.g. `git worktree add /tmp/base <commit>`, then `bench/engine_ab.py /tmp/base` (NEW defaults
to this checkout). Modes: `api` (POST /api/v1/tasks/<id>/complete through Flask's test client,
answering with the whole case), `minimal` (the same with `Prefer: return=minimal`; a checkout
that does not know it answers in full), `service` (`runtime.complete_task`). The first round is
a warm-up and is left out.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def worker(checkout: str) -> None:
    """One side: read 'MODE CASES' lines, answer 'cpu_ms wall_ms' per completion."""
    sys.path.insert(0, str(HERE.parent))
    import sqlalchemy as sa

    import engine as bench  # this checkout's helpers; they put this checkout first on the path
    sys.path.insert(0, checkout)  # the code measured: the checkout's
    os.chdir(checkout)
    import app as measured
    assert Path(measured.__file__).resolve().is_relative_to(Path(checkout).resolve()), measured.__file__
    with bench.bench_database("wuye_ab") as app:
        from app.engine import runtime
        from app.extensions import db
        from app.models import HumanTask
        from app.services import users
        print("ready", flush=True)
        for line in sys.stdin:
            mode, cases = line.split()
            token, ids = bench.api_cases(app, int(cases))
            client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
            if mode == "minimal":
                headers["Prefer"] = "return=minimal"
            cpu = wall = 0.0
            done = 0
            for instance_id in ids:
                while True:
                    with app.app_context():
                        task_id = db.session.scalar(sa.select(HumanTask.id).where(
                            HumanTask.instance_id == instance_id, HumanTask.status == "open"))
                        if task_id is None:
                            break
                        if mode == "service":
                            user = users.user_for_token(token)[0]  # may act on every task of bench_five
                            c0, t0 = time.process_time(), time.perf_counter()
                            runtime.complete_task(task_id, bench.DATA, user)
                            cpu, wall, done = cpu + time.process_time() - c0, wall + time.perf_counter() - t0, done + 1
                            continue
                    c0, t0 = time.process_time(), time.perf_counter()
                    response = client.post(f"/api/v1/tasks/{task_id}/complete", json=bench.DATA, headers=headers)
                    cpu, wall, done = cpu + time.process_time() - c0, wall + time.perf_counter() - t0, done + 1
                    assert response.status_code == 200, response.get_data(as_text=True)[:300]
            print(f"{cpu / done * 1000:.4f} {wall / done * 1000:.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("new", nargs="?", default=str(HERE.parent.parent))
    parser.add_argument("--mode", choices=["api", "minimal", "service"], default="api")
    parser.add_argument("--cases", type=int, default=20, help="cases (5 completions each) per batch")
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    sides = {}
    for label, checkout in (("A", args.base), ("B", args.new)):
        proc = subprocess.Popen([sys.executable, str(HERE), "--worker", str(Path(checkout).resolve())],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        while (line := proc.stdout.readline()) and line.strip() != "ready":
            pass
        if not line:
            sys.exit(f"the {label} side ({checkout}) did not start; run it alone to see why: "
                     f"{sys.executable} {HERE} --worker {checkout}")
        sides[label] = proc
    figures = {"A": [], "B": []}
    for round_ in range(args.rounds):
        for label in ("A", "B") if round_ % 2 == 0 else ("B", "A"):
            sides[label].stdin.write(f"{args.mode} {args.cases}\n")
            sides[label].stdin.flush()
            figures[label].append(tuple(map(float, sides[label].stdout.readline().split())))
    for proc in sides.values():
        proc.stdin.close()
        proc.wait()
    print(f"{args.mode}: {args.rounds - 1} rounds of {args.cases} cases ({args.cases * 5} completions) each side, "
          f"after a warm-up round")
    for label, checkout in (("A", args.base), ("B", args.new)):
        cpu = statistics.median(c for c, _w in figures[label][1:])
        wall = statistics.median(w for _c, w in figures[label][1:])
        print(f"  {label} {checkout}: CPU {cpu:.2f} ms, wall {wall:.2f} ms per completion ({1000 / wall:.0f}/s), medians")
    ratios = [b[0] / a[0] for a, b in zip(figures["A"][1:], figures["B"][1:])]
    print("  B/A CPU per round: " + " ".join(f"{r:.2f}" for r in ratios) + f"; median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2])
    else:
        main()
