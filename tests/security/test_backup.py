"""Restore drill: back up, lose the data, restore, and everything (documents included) is back."""
import tarfile
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Enterprise
from app.services import audit, backup


def test_backup_and_restore_drill(app, runner, factory, tmp_path):
    factory.enterprise(name="备份前的企业")
    audit.seal()
    upload = Path(app.config["UPLOAD_FOLDER"]) / "doc.pdf"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"%PDF-1.4 document")
    result = runner.invoke(args=["backup", "create", "--to", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    archive = result.output.strip()

    db.session.execute(db.delete(Enterprise))
    db.session.commit()
    upload.unlink()
    result = runner.invoke(args=["backup", "restore", archive, "--yes"])
    assert result.exit_code == 0, result.output
    assert [e.name for e in db.session.scalars(db.select(Enterprise))] == ["备份前的企业"]
    assert upload.read_bytes() == b"%PDF-1.4 document"
    assert audit.verify_chain() is None


def test_a_damaged_backup_is_refused(app, tmp_path, factory):
    factory.enterprise(name="企业")
    archive = backup.create(str(tmp_path))
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name == "database.dump":
                data = data[:-10] + b"0123456789"
            if data is not None:
                import io
                member.size = len(data)
                dst.addfile(member, io.BytesIO(data))
            else:
                dst.addfile(member)
    with pytest.raises(backup.BackupError):
        backup.restore(str(damaged))
    assert db.session.scalar(db.select(db.func.count(Enterprise.id))) == 1
