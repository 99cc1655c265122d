"""Backups of the database and the stored documents, and their restore.

A backup is one .tar.gz: `database.dump` (pg_dump custom format on PostgreSQL, an SQLite
copy made with SQLite's online backup API), `uploads/` and `manifest.json` (time, schema
revision, SHA-256 of each member). Restore checks the manifest first and refuses a damaged file.
"""
import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import make_url

from app.extensions import db


class BackupError(Exception):
    pass


def _pg_url() -> str:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def create(target_dir: str) -> Path:
    dialect = db.engine.dialect.name
    revision = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalars().all()
    db.session.commit()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dump = work / "database.dump"
        if dialect == "postgresql":
            subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--dbname={_pg_url()}", f"--file={dump}"],
                           check=True, capture_output=True)
        else:
            source = sqlite3.connect(make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database)
            target = sqlite3.connect(dump)
            with target:
                source.backup(target)
            source.close()
            target.close()
        uploads = Path(current_app.config["UPLOAD_FOLDER"])
        members = {"database.dump": _sha256(dump)}
        if uploads.exists():
            shutil.copytree(uploads, work / "uploads")
            for path in sorted((work / "uploads").rglob("*")):
                if path.is_file():
                    members[str(path.relative_to(work))] = _sha256(path)
        manifest = {"created_at": stamp, "dialect": dialect, "revision": revision, "members": members}
        (work / "manifest.json").write_text(json.dumps(manifest, indent=1))
        Path(target_dir).mkdir(parents=True, exist_ok=True)
        archive = Path(target_dir) / f"wuye-backup-{stamp}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted(work.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(work)), recursive=False)
    return archive


def restore(archive: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(work, filter="data")  # no absolute paths, links or devices
        manifest = json.loads((work / "manifest.json").read_text())
        for name, digest in manifest["members"].items():
            if not (work / name).is_file() or _sha256(work / name) != digest:
                raise BackupError(f"backup damaged: {name}")
        dialect = db.engine.dialect.name
        if manifest["dialect"] != dialect:
            raise BackupError(f"backup is of {manifest['dialect']}, this database is {dialect}")
        db.session.remove()
        db.engine.dispose()
        if dialect == "postgresql":
            subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                            f"--dbname={_pg_url()}", str(work / "database.dump")], check=True, capture_output=True)
        else:
            target = sqlite3.connect(make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database)
            source = sqlite3.connect(work / "database.dump")
            with target:
                source.backup(target)
            source.close()
            target.close()
        uploads = Path(current_app.config["UPLOAD_FOLDER"])
        if (work / "uploads").exists():
            uploads.mkdir(parents=True, exist_ok=True)
            for path in (work / "uploads").rglob("*"):
                if path.is_file():
                    destination = uploads / path.relative_to(work / "uploads")
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, destination)
        return manifest


