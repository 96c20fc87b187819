"""A real IMAP server for the tests: Debian's Dovecot, started on a free port of 127.0.0.1 with a
configuration, users and mail folders of its own under a temporary directory, stopped after.

``dovecot`` (a fixture) yields a ``Dovecot`` whose ``deliver`` puts an email in the practice's
INBOX as a mail server would (IMAP APPEND), and whose ``url`` is what ``INBOX_URL`` would say.
"""

from __future__ import annotations

import imaplib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require
from tests.load.harness import free_port, wait_for_port

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "practice", "mailbox-secret"

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
instance_name = servicedesk-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = {uid}
first_valid_gid = {gid}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    """One test's mailbox on the session's server: a user of its own, so its UIDs start at 1."""

    root: Path
    port: int
    user: str = USER

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    def connect(self) -> imaplib.IMAP4:
        server = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        server.login(self.user, PASSWORD)
        return server

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        server = self.connect()
        try:
            server.append(folder, None, None, raw)
        finally:
            server.logout()


def _owner() -> tuple[str, int, int]:
    """Who the mail belongs to: Dovecot refuses root, so the ``dovecot`` user when run as root."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return entry.pw_name, entry.pw_uid, entry.pw_gid
    entry = pwd.getpwnam("dovecot")
    return entry.pw_name, entry.pw_uid, entry.pw_gid


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    """One Dovecot for the session (starting and stopping it takes seconds)."""
    require(Path(DOVECOT).exists(), "Dovecot (Debian's dovecot-imapd)")
    # Not under pytest's temporary folder: Dovecot's own users must be able to reach this one.
    root = Path(tempfile.mkdtemp(prefix="servicedesk-dovecot-"))
    root.chmod(0o755)
    port = free_port()
    owner, uid, gid = _owner()
    login = "dovenull" if os.geteuid() == 0 else owner
    for folder in ("run", "state", "mail", "home"):
        (root / folder).mkdir()
    if os.geteuid() == 0:
        for folder in ("mail", "home"):
            shutil.chown(root / folder, uid, gid)
    (root / "dovecot.conf").write_text(
        CONFIG.format(
            root=root,
            port=port,
            password=PASSWORD,
            uid=uid,
            gid=gid,
            internal=owner,
            internal_group=owner,
            login=login,
        )
    )
    # Dovecot forks into the background: its output goes to its log, never to a pipe we would wait on.
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([DOVECOT, "-c", str(root / "dovecot.conf")], check=True, timeout=30, **quiet)
    try:
        wait_for_port(port, timeout=15)
        yield Dovecot(root=root, port=port)
    finally:
        subprocess.run([DOVECOT, "-c", str(root / "dovecot.conf"), "stop"], timeout=30, **quiet)
        deadline = time.monotonic() + 5
        while (root / "run" / "master.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)


_users = itertools.count(1)


@pytest.fixture
def dovecot(dovecot_server, settings) -> Dovecot:
    """A new, empty mailbox on the session's Dovecot, and ``INBOX_URL`` naming it."""
    # Any user name signs in with PASSWORD (a static passdb): each test's is new, its mail folder too.
    mailbox = Dovecot(root=dovecot_server.root, port=dovecot_server.port, user=f"{USER}{next(_users)}")
    settings.INBOX_URL = mailbox.url
    return mailbox
