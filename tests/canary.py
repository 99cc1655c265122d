"""A file only this test run knows, for the hostile-XML tests: an external entity or an
XInclude that reached the file system would put CANARY_TEXT into the answer. (A system file
such as /etc/hostname holds a short word, "vm" here, that a page may contain by chance.)"""
import atexit
import tempfile
import uuid
from pathlib import Path

CANARY = Path(tempfile.gettempdir()) / f"wuye-xxe-canary-{uuid.uuid4().hex}.txt"
CANARY_TEXT = f"canary-{uuid.uuid4().hex}"
CANARY.write_text(CANARY_TEXT)
atexit.register(CANARY.unlink, missing_ok=True)
