"""A throwaway PostgreSQL cluster of the installed server, for the chaos test that stops and starts
PostgreSQL under load (tests/chaos): the suite's shared server must never go down.

``initdb`` refuses to run as root, so under root the cluster belongs to the ``postgres`` account
and its commands run through ``runuser``; as any other user they run as that user. The cluster
listens on 127.0.0.1 at a free port (its Unix socket in its own directory), trusts local
connections and skips fsync: what the test proves is that a PostgreSQL process going away loses
no committed work, which its write-ahead log (written at every commit) guarantees without fsync;
an operating system crash is not part of it.
"""

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from flows.server import free_port

OWNER_WHEN_ROOT = "postgres"


def server_bin() -> Path | None:
    """The newest installed server's bin directory (Debian's layout), or ``LAUNCHDECK_TEST_PG_BIN``."""
    if os.environ.get("LAUNCHDECK_TEST_PG_BIN"):
        return Path(os.environ["LAUNCHDECK_TEST_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3]))
    return found[-1].parent if found else None


@dataclass
class Cluster:
    bin: Path
    root: Path
    port: int
    run_as: str | None  # None: as the current user

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, check=False)
        if done.returncode:
            log = (self.root / "server.log").read_text()[-2000:] if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stdout}{done.stderr}\n{log}")

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"
        )

    def start(self) -> None:
        """Start and wait until it accepts connections (``pg_ctl -w``)."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200 -c shared_buffers=32MB"
        )
        self._pg_ctl("-l", str(self.root / "server.log"), "-o", options, "start")

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: every server process quits at once, no checkpoint (a crash, as far as
        clients and the data on disk can tell); the next start recovers from the WAL."""
        self._pg_ctl("-m", mode, "stop")

    def _pg_ctl(self, *arguments: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", *arguments)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str) -> str:
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A new cluster, started; stopped and removed afterwards, whatever the test left it as."""
    bin_dir = server_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        raise RuntimeError("no PostgreSQL server installed under /usr/lib/postgresql; set LAUNCHDECK_TEST_PG_BIN")
    run_as = OWNER_WHEN_ROOT if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="launchdeck-pg-"))
    if run_as is not None:
        account = pwd.getpwnam(run_as)
        os.chown(root, account.pw_uid, account.pw_gid)
    cluster = Cluster(bin=bin_dir, root=root, port=free_port(), run_as=run_as)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            with contextlib.suppress(RuntimeError):  # already gone; the directory goes anyway
                cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
