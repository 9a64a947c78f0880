"""The project-managed embedded PostGIS cluster.

``initdb``/``pg_ctl`` on a project-local data directory with the system's PostgreSQL
binaries. PostgreSQL refuses to run as root, so when we are root the server runs as the
``postgres`` system user (data dir owned by it, mode 0700). PostGIS and pgRouting are
installed through apt when missing and we are allowed to.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.errors import Unavailable
from twin.settings import Settings

SERVER_USER = "postgres"
EXTENSIONS = ("postgis", "pgrouting")
_CONF_MARK = "# --- roadtwin settings ---"


@dataclass(frozen=True)
class ClusterStatus:
    """What ``twin db status`` reports about the embedded server."""

    running: bool
    data_dir: str
    port: int | None
    bindir: str
    version: str


def find_bindir(
    settings: Settings, *, search: str = "/usr/lib/postgresql/*/bin", use_pg_config: bool = True
) -> Path:
    """Locate PostgreSQL server binaries (``initdb``, ``pg_ctl``, ``postgres``).

    Looks at ``settings.pg_bindir``, then ``pg_config --bindir``, then ``search`` (a glob,
    newest version first).

    Raises
    ------
    Unavailable
        When no server binaries can be found or installed.
    """
    candidates: list[Path] = []
    if settings.pg_bindir:
        candidates.append(Path(settings.pg_bindir))
    pg_config = shutil.which("pg_config") if use_pg_config else None
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    for d in sorted(glob.glob(search), key=_version_key, reverse=True):
        candidates.append(Path(d))
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    if settings.install_missing and _can_apt():
        _apt_install(["postgresql"])
        return find_bindir(
            settings.model_copy(update={"install_missing": False}),
            search=search,
            use_pg_config=use_pg_config,
        )
    raise Unavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found",
        hint="install PostgreSQL 15+ (Debian: apt-get install postgresql) or set "
        "TWIN_PG_BINDIR, or point TWIN_DATABASE_URL at an existing PostGIS server",
    )


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


def _can_apt() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


_apt_updated = False


def _apt_install(packages: list[str]) -> None:
    global _apt_updated
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_updated:
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env, capture_output=True)
        _apt_updated = True
    res = subprocess.run(
        ["apt-get", "install", "-y", "-q", *packages], env=env, capture_output=True, text=True
    )
    if res.returncode != 0:
        raise Unavailable(
            f"apt-get install {' '.join(packages)} failed: {res.stderr.strip()[-400:]}",
            hint="install the packages by hand or set TWIN_DATABASE_URL",
        )


def pg_major(bindir: Path) -> str:
    """Major version of the server in ``bindir`` (for package names)."""
    out = subprocess.run([str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True)
    return out.stdout.strip().split()[-1].split(".")[0]


def ensure_extensions_available(settings: Settings, bindir: Path) -> None:
    """Install PostGIS and pgRouting for this server version through apt when missing."""
    major = pg_major(bindir)
    share = Path(f"/usr/share/postgresql/{major}/extension")
    missing = [e for e in EXTENSIONS if not (share / f"{e}.control").exists()]
    if not missing:
        return
    names = {
        "postgis": f"postgresql-{major}-postgis-3",
        "pgrouting": f"postgresql-{major}-pgrouting",
    }
    if settings.install_missing and _can_apt():
        _apt_install([names[m] for m in missing])
        return
    raise Unavailable(
        f"PostgreSQL {major} lacks the extensions {', '.join(missing)}",
        hint=f"apt-get install {' '.join(names[m] for m in missing)}",
    )


class Cluster:
    """A PostgreSQL cluster whose data directory belongs to the project."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = Path(settings.home)
        self._bindir: Path | None = None

    # ---- locations -------------------------------------------------------------------
    @property
    def bindir(self) -> Path:
        """Server binaries, located (and installed) on first use."""
        if self._bindir is None:
            self._bindir = find_bindir(self.settings)
        return self._bindir

    @property
    def data_dir(self) -> Path:
        """Data directory: ``.twin/pg``, or a path the server user can reach when not."""
        pointer = self.home / "pgdata-location"
        if pointer.exists():
            return Path(pointer.read_text().strip())
        default = self.home / "pg"
        self.home.mkdir(parents=True, exist_ok=True)
        if not self._as_root or _reachable_by_server_user(self.home):
            return default
        digest = hashlib.sha1(str(self.home.resolve()).encode()).hexdigest()[:12]
        alt = Path("/var/lib/roadtwin") / digest / "pg"
        return alt

    @property
    def port_file(self) -> Path:
        return self.home / "port"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    # ---- commands --------------------------------------------------------------------
    def _run(self, args: list[Any], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in args]
        if self._as_root:
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        if check and res.returncode != 0:
            raise Unavailable(
                f"{Path(args[0]).name} failed: {(res.stderr or res.stdout).strip()[-800:]}",
                hint=f"see {self.log_file}",
            )
        return res

    def initialised(self) -> bool:
        """True when the data directory holds a cluster."""
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster (idempotent)."""
        ensure_extensions_available(self.settings, self.bindir)
        if self.initialised():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        data = self.data_dir
        data.mkdir(parents=True, exist_ok=True)
        if data != self.home / "pg":
            (self.home / "pgdata-location").write_text(str(data))
        if self._as_root:
            _ensure_server_user()
            shutil.chown(data, SERVER_USER, SERVER_USER)
        data.chmod(0o700)
        self._run(
            [
                self.bindir / "initdb",
                "-D",
                data,
                "-U",
                self.settings.pg_superuser,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )

    def port(self) -> int:
        """The remembered port, or a newly chosen free one."""
        if self.port_file.exists():
            return int(self.port_file.read_text().strip())
        port = _free_port()
        self.home.mkdir(parents=True, exist_ok=True)
        self.port_file.write_text(str(port))
        return port

    def running(self) -> bool:
        """True when the server of this data directory is up."""
        if not self.initialised():
            return False
        res = self._run([self.bindir / "pg_ctl", "status", "-D", self.data_dir], check=False)
        return res.returncode == 0

    def start(self) -> None:
        """Initialise when needed and start the server (idempotent)."""
        self.init()
        if self.running():
            return
        port = self.port()
        if not _port_free(port):
            port = _free_port()
            self.port_file.write_text(str(port))
        self._write_conf(port)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        if self._as_root:
            shutil.chown(self.log_file, SERVER_USER, SERVER_USER)
        self._run(
            [
                self.bindir / "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                self.data_dir,
                "-l",
                self.log_file,
            ]
        )
        self._wait_ready(port)
        self.ensure_database(self.settings.database_name)

    def stop(self) -> None:
        """Stop the server (idempotent), keeping the data."""
        if self.running():
            self._run([self.bindir / "pg_ctl", "stop", "-w", "-m", "fast", "-D", self.data_dir])

    def status(self) -> ClusterStatus:
        """Current state of the embedded server."""
        return ClusterStatus(
            running=self.running(),
            data_dir=str(self.data_dir),
            port=int(self.port_file.read_text()) if self.port_file.exists() else None,
            bindir=str(self.bindir),
            version=pg_major(self.bindir),
        )

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL of a database in this cluster."""
        db = database or self.settings.database_name
        return f"postgresql+psycopg://{self.settings.pg_superuser}@127.0.0.1:{self.port()}/{db}"

    def ensure_database(self, name: str) -> None:
        """Create database ``name`` with PostGIS and pgRouting when absent."""
        import psycopg

        base = f"host=127.0.0.1 port={self.port()} user={self.settings.pg_superuser}"
        with psycopg.connect(f"{base} dbname=postgres", autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(f"{base} dbname={name}", autocommit=True) as conn:
            for ext in EXTENSIONS:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")

    # ---- helpers ---------------------------------------------------------------------
    def _write_conf(self, port: int) -> None:
        conf = self.data_dir / "postgresql.conf"
        text = conf.read_text() if conf.exists() else ""
        text = text.split(_CONF_MARK)[0]
        text += (
            f"{_CONF_MARK}\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\nshared_buffers = 256MB\nwork_mem = 32MB\n"
            "maintenance_work_mem = 256MB\nsynchronous_commit = off\nmax_connections = 100\n"
            "max_wal_size = 2GB\n"
        )
        if self._as_root:
            res = subprocess.run(
                ["runuser", "-u", SERVER_USER, "--", "tee", str(conf)],
                input=text,
                capture_output=True,
                text=True,
            )
            if res.returncode != 0:
                raise Unavailable(f"cannot write {conf}: {res.stderr}")
        else:
            conf.write_text(text)

    def _wait_ready(self, port: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            res = subprocess.run(
                [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
            )
            if res.returncode == 0:
                return
            time.sleep(0.2)
        raise Unavailable(
            f"the embedded server did not accept connections on port {port}",
            hint=f"see {self.log_file}",
        )


def _reachable_by_server_user(path: Path) -> bool:
    res = subprocess.run(
        ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(path.resolve())],
        capture_output=True,
    )
    return res.returncode == 0


def _ensure_server_user() -> None:
    res = subprocess.run(["id", SERVER_USER], capture_output=True)
    if res.returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVER_USER], check=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
