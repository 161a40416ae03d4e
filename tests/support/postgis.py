"""A throwaway PostgreSQL + PostGIS cluster for the test suite (Debian's postgresql-15-postgis-3).

initdb and pg_ctl refuse to run as root, so as root the cluster is owned by the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN_CANDIDATES = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin")]


class PostgisUnavailable(RuntimeError):
    pass


def _pg_bin() -> Path:
    for candidate in PG_BIN_CANDIDATES:
        if (candidate / "initdb").exists():
            return candidate
    raise PostgisUnavailable(
        "PostgreSQL server binaries not found: apt-get install postgresql-15-postgis-3 "
        "(or set TEST_DATABASE_URL to an existing PostGIS database)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    directory: Path
    port: int
    user: str
    pg_bin: Path
    as_postgres: bool

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/dispatch_test"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def psql(self, database: str, sql: str) -> None:
        self._run(
            str(self.pg_bin / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            database,
            "-c",
            sql,
        )

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.directory / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        try:
            self._run(str(self.pg_bin / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster(*, durable: bool = False) -> Cluster:
    """A throwaway cluster. Tests skip fsync (a lost test database costs nothing); `durable` keeps PostgreSQL's
    defaults (fsync, full page writes) for benchmarks that claim durable commits."""
    pg_bin = _pg_bin()
    if not (
        Path("/usr/share/postgresql/15/extension/postgis.control").exists()
        or any(Path("/usr/share/postgresql").glob("*/extension/postgis.control"))
    ):
        raise PostgisUnavailable("PostGIS is not installed: apt-get install postgresql-15-postgis-3")
    as_postgres = os.geteuid() == 0
    directory = Path(tempfile.mkdtemp(prefix="dispatch-pg-"))
    user = "postgres" if as_postgres else os.environ.get("USER", "postgres")
    if as_postgres:
        shutil.chown(directory, "postgres")
    cluster = Cluster(directory, _free_port(), user, pg_bin, as_postgres)
    data = directory / "data"
    cluster._run(str(pg_bin / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8", "--no-instructions")
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={cluster.port} -c unix_socket_directories={directory}"
        " -c synchronous_commit=on -c max_connections=200"
        + ("" if durable else " -c fsync=off -c full_page_writes=off")
    )
    cluster._run(str(pg_bin / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start")
    cluster.psql("postgres", "CREATE DATABASE dispatch_test")
    cluster.psql("dispatch_test", "CREATE EXTENSION postgis")
    return cluster
