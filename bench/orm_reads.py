"""What SQLAlchemy costs on a completion's two reads, on PostgreSQL.

A service-layer completion (bench/engine.py's (2)) reads twice before SpiffWorkflow runs: the
case, locked, with its version, and the task with the case's open tasks, locked
(`runtime._task_and_instance`). This prints the client CPU of that pair, the same statements
each time, made four ways:
  ORM as the engine makes them; the ORM without the version's join; SQLAlchemy Core (rows,
  no objects); psycopg directly (the statements SQLAlchemy compiled, run on its connection).
The gap between the first and the last is what leaving SQLAlchemy out of the completion's
reads would save; docs/performance.md weighs it against the targets.

    .venv/bin/python bench/orm_reads.py [--cases 50] [--rounds 3]

It creates and drops its own PostgreSQL database (127.0.0.1, trust auth).
"""
import argparse
import statistics
import time

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, undefer

import engine as bench  # puts the checkout first on the path


def ways(runtime, HumanTask, ProcessInstance, ProcessModelVersion, dialect):
    """{name: one pair of reads for a task id}: each runs the two statements and returns."""
    from app.extensions import db
    orm_instance, orm_tasks = runtime._task_and_instance_queries()
    task_id = sa.bindparam("task_id")
    of_task = sa.select(HumanTask.instance_id).where(HumanTask.id == task_id).scalar_subquery()
    unjoined = (sa.select(ProcessInstance).where(ProcessInstance.id == of_task)
                .options(lazyload(ProcessInstance.version), undefer(ProcessInstance.state))
                .with_for_update(of=ProcessInstance, key_share=True).execution_options(populate_existing=True))
    case, version, task = ProcessInstance.__table__, ProcessModelVersion.__table__, HumanTask.__table__
    core_instance = (sa.select(case, version.c.checksum, version.c.number)
                     .join(version, version.c.id == case.c.version_id)
                     .where(case.c.id == of_task).with_for_update(of=case, key_share=True))
    core_tasks = (sa.select(task).where(task.c.instance_id == sa.bindparam("instance_id"),
                                        sa.or_(task.c.id == task_id, task.c.status == "open"))
                  .with_for_update(key_share=True))
    compiled_instance, compiled_tasks = core_instance.compile(dialect=dialect), core_tasks.compile(dialect=dialect)

    def orm(instance_query):
        def read(tid):
            instance = db.session.scalar(instance_query, {"task_id": tid})
            db.session.scalars(orm_tasks, {"task_id": tid, "instance_id": instance.id}).all()
        return read

    def core(tid):
        instance = db.session.execute(core_instance, {"task_id": tid}).first()
        db.session.execute(core_tasks, {"task_id": tid, "instance_id": instance.id}).all()

    def psycopg(tid):
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        cursor.execute(str(compiled_instance), compiled_instance.construct_params({"task_id": tid}))
        instance = cursor.fetchone()
        cursor.execute(str(compiled_tasks), compiled_tasks.construct_params({"task_id": tid, "instance_id": instance[0]}))
        cursor.fetchall()

    return {"ORM, as the engine reads": orm(orm_instance), "ORM, without the version's join": orm(unjoined),
            "SQLAlchemy Core (rows)": core, "psycopg directly": psycopg}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with bench.bench_database("wuye_bench") as app:
        from app.engine import runtime
        from app.extensions import db
        from app.models import HumanTask, ProcessInstance, ProcessModelVersion
        bench.api_cases(app, args.cases)
        with app.app_context():
            task_ids = db.session.scalars(sa.select(HumanTask.id).where(HumanTask.status == "open")).all()
            candidates = ways(runtime, HumanTask, ProcessInstance, ProcessModelVersion, db.engine.dialect)
            figures = {label: [] for label in candidates}
            for _round in range(args.rounds + 1):  # the first is a warm-up
                for label, read in candidates.items():
                    cpu = 0.0
                    for tid in task_ids:
                        db.session.connection()  # checked out and begun outside the timing: the same for each way
                        started = time.process_time()
                        read(tid)
                        cpu += time.process_time() - started
                        db.session.rollback()  # lets the locks go
                    figures[label].append(cpu / len(task_ids) * 1000)
            db.session.remove()
        print(f"A completion's two reads, client CPU per pair (median of {args.rounds} rounds of "
              f"{len(task_ids)} tasks, after a warm-up):")
        for label, values in figures.items():
            print(f"  {label}: {statistics.median(values[1:]):.3f} ms")


if __name__ == "__main__":
    main()
