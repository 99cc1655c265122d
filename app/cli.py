"""Flask CLI commands: users, demo data, jobs and the worker."""
import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.models import ApiToken, User

users_cli = AppGroup("users", help="User accounts and API tokens.")
demo_cli = AppGroup("demo", help="Demo data.")
jobs_cli = AppGroup("jobs", help="Background jobs.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="role code, repeatable")
@click.option("--org", "org_id", type=int, help="id of the organisation the user acts for")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="")
def create_user(username, roles, org_id, password, display_name):
    from app.services import users
    from app.services.errors import ValidationFailed
    try:
        user = users.create_user(username, password, list(roles), display_name=display_name, org_id=org_id)
    except ValidationFailed as e:
        for field, message in e.fields.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1)
    click.echo(f"created {user.username} ({', '.join(sorted(user.roles))})")


@users_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli")
def token(username, name):
    """Print a new bearer token for USERNAME (shown once; stored hashed)."""
    from app.services import users
    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    click.echo(users.issue_token(user, name))


@users_cli.command("revoke")
@click.argument("prefix")
def revoke(prefix):
    """Revoke the token whose first characters are PREFIX."""
    from app.services import users
    rows = db.session.scalars(db.select(ApiToken).where(ApiToken.prefix.startswith(prefix),
                                                        ApiToken.revoked_at.is_(None))).all()
    if len(rows) != 1:
        raise click.ClickException(f"{len(rows)} tokens match {prefix}")
    users.revoke_token(rows[0].id, rows[0].user)
    click.echo("revoked")


@demo_cli.command("seed")
def seed():
    """Load the Jishou demo data (idempotent) and print the demo logins."""
    from app.services import demo
    logins = demo.seed()
    click.echo("Demo logins (username / password / role):")
    for username, password, role in logins:
        click.echo(f"  {username:<20} {password:<16} {role}")


@jobs_cli.command("ping")
@click.argument("note", default="ping")
def ping(note):
    """Enqueue a tiny job that writes an audit event (proves the job pipeline)."""
    from app import jobs
    jobs.enqueue("workers.demo.record_ping", note)
    db.session.commit()
    click.echo("enqueued" if current_app.config.get("REDIS_URL") else "ran in-process")


@click.command("worker")
@click.option("--queues", "-q", multiple=True, help="queue names (default: all)")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
def worker(queues, burst):
    """Run an RQ worker for the configured REDIS_URL."""
    from rq import Worker
    from app.jobs import redis_connection
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker needed")
    names = list(queues) or current_app.config["RQ_QUEUES"]
    Worker(names, connection=redis_connection()).work(burst=burst, with_scheduler=True)




bpmn_cli = AppGroup("bpmn", help="Process models.")


@bpmn_cli.command("deploy")
@click.option("--dir", "directory", default=None, help="folder of .bpmn/.dmn files (default: bpmn/)")
def bpmn_deploy(directory):
    """Deploy every diagram in bpmn/ whose content changed (idempotent)."""
    import os
    from app.engine.deploy import deploy_directory
    from app.services.errors import ValidationFailed
    directory = directory or os.path.join(os.path.dirname(current_app.root_path), "bpmn")
    try:
        for key, number, created in deploy_directory(directory):
            click.echo(f"  {key:<28} v{number} {'deployed' if created else 'unchanged'}")
    except ValidationFailed as e:
        raise click.ClickException(e.message + "\n" + "\n".join(e.fields.values()))


# Periodic jobs: (job, queue, seconds between runs).
PERIODIC = [
    ("workers.engine.tick", "timers", 10),
    ("workers.escrow.pull_statements", "bank", 300),
    ("workers.escrow.reconcile_all", "bank", 86400),
    ("workers.notify.deliver", "default", 10),
    ("workers.notify.daily_digest", "default", 86400),
    ("workers.notify.overdue_tasks", "default", 900),
    ("workers.audit.seal", "default", 60),
    ("app.jobs.sweep", "default", 60),
    ("workers.contracts.renewal_reminders", "default", 86400),
    ("workers.devices.poll", "devices", 60),
    ("workers.devices.daily", "devices", 3600),
]


@click.command("scheduler")
@click.option("--once", is_flag=True, help="run every periodic job once and stop")
def scheduler(once):
    """Enqueue the periodic jobs on their intervals (on RQ when REDIS_URL is set, run here
    otherwise). Each job is safe to run twice, so a restart or a second scheduler is harmless;
    they are not kept in the job outbox, as the next tick sends them again anyway."""
    import time
    from app import jobs
    from workers.health import beat
    last_run = {}
    while True:
        beat()  # the container healthcheck's sign of life (python -m workers.health scheduler)
        for path, queue, every in PERIODIC:
            if once or time.monotonic() - last_run.get(path, -every) >= every:
                jobs.enqueue(path, queue=queue, durable=False)
                db.session.commit()
                last_run[path] = time.monotonic()
        if once:
            break
        time.sleep(1)



calendar_cli = AppGroup("calendar", help="Statutory holidays and adjusted working days.")


@calendar_cli.command("seed")
def calendar_seed():
    """Fill the holiday tables from the chinesecalendar package (idempotent)."""
    from app.engine import calendar
    click.echo(f"added {calendar.seed()} days")


audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("seal")
def audit_seal():
    """Chain new audit entries (also run by the scheduler every minute)."""
    from app.services import audit
    click.echo(f"sealed {audit.seal()} entries")


@audit_cli.command("verify")
def audit_verify():
    """Check the whole chain: the first edited or deleted entry, the newest entries deleted
    (the chain shorter than its head), or an entry unsealed for too long (exit 1). The head
    printed on success is worth keeping outside the database, to compare with later."""
    from app.services import audit
    problem = audit.verify_chain()
    if problem is None:
        head = audit.chain_head()
        click.echo(f"audit chain intact: {head.entries if head else 0} entries, head "
                   f"{head.last_hash if head else audit.GENESIS}")
    else:
        click.echo(problem.message, err=True)
        raise SystemExit(1)


backup_cli = AppGroup("backup", help="Backups of the database and documents.")


@backup_cli.command("create")
@click.option("--to", "target", default="backups", help="folder for the archive")
def backup_create(target):
    from app.services import backup
    click.echo(str(backup.create(target)))


@backup_cli.command("restore")
@click.argument("archive")
@click.option("--yes", is_flag=True, help="do not ask")
def backup_restore(archive, yes):
    """Replace the database and documents with ARCHIVE (checked against its manifest first)."""
    from app.services import backup
    if not yes:
        click.confirm("This replaces the current database and documents. Continue?", abort=True)
    try:
        manifest = backup.restore(archive)
    except backup.BackupError as e:
        raise click.ClickException(str(e))
    click.echo(f"restored backup of {manifest['created_at']} (schema {', '.join(manifest['revision'])})")


ops_cli = AppGroup("ops", help="Operations.")


@ops_cli.command("status")
def ops_status():
    """Queue depths, incidents, overdue timers and stuck calls as JSON, for monitoring;
    exits 1 when something needs a person (an incident, a failed job or call, a timer backlog)."""
    import json
    from app.services import ops
    figures = ops.status()
    click.echo(json.dumps(figures, indent=2))
    failed_jobs = sum(q["failed"] for q in (figures["queues"] or {}).values())
    if figures["incidents"] or figures["timers_overdue"] or figures["service_calls_failed"] or failed_jobs:
        raise SystemExit(1)


def register_cli(app) -> None:
    for command in (users_cli, demo_cli, jobs_cli, worker, bpmn_cli, scheduler, calendar_cli, audit_cli, ops_cli,
                    backup_cli):
        app.cli.add_command(command)
