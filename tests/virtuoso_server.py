"""Start and stop a private Virtuoso Open Source server, for tests and benchmarks.

The server gets its own folder (database, log, `virtuoso.ini`), listens on two free loopback
ports (SQL and HTTP) and is reachable only from this machine. Its `virtuoso.ini` is the Debian
package's default with the paths, ports and limits replaced; SPARQL updates are allowed for one
user with a random password, through the authenticated endpoint `/sparql-auth` (HTTP digest).

>>> with running_virtuoso() as server:                      # doctest: +SKIP
...     store = server.store("urn:her2kg:test")
...     store.load_ntriples("<urn:a> <urn:b> <urn:c> .")

Needs the `virtuoso-opensource` Debian package (`virtuoso-t` and `isql-vt` on the PATH).
"""

from __future__ import annotations

import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from her2kg.errors import Her2kgError

if TYPE_CHECKING:
    from her2kg.stores.remote import RemoteSparqlStore

SERVER_BINARY = "virtuoso-t"
ISQL_BINARIES = ("isql-vt", "isql-v")
INSTALL_HINT = "install it with `apt-get install -y virtuoso-opensource` (Debian/Ubuntu)"
USERNAME = "her2kg"
_TEMPLATE_RELATIVE = Path("share") / "virtuoso-opensource-7" / "virtuoso.ini"


class VirtuosoError(Her2kgError):
    """The private Virtuoso server could not be started or driven."""


def virtuoso_binary() -> str | None:
    """The path of `virtuoso-t`, or None when Virtuoso is not installed."""
    return shutil.which(SERVER_BINARY)


def isql_binary() -> str | None:
    return next((found for name in ISQL_BINARIES if (found := shutil.which(name))), None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class VirtuosoSettings:
    """The knobs of a private server. Memory: one buffer is 8 KiB (Virtuoso's own guide: about
    two thirds of the memory given to Virtuoso go to buffers)."""

    buffers: int = 100_000
    max_dirty_buffers: int = 75_000
    result_rows: int = 10_000_000
    threads_per_query: int = 2
    startup_timeout: float = 120.0


@dataclass(frozen=True)
class VirtuosoServer:
    """A running private Virtuoso server (see `start_virtuoso`)."""

    directory: Path
    http_port: int
    sql_port: int
    username: str
    password: str
    dba_password: str
    process: subprocess.Popen[bytes]

    @property
    def sparql_url(self) -> str:
        """The authenticated SPARQL 1.1 endpoint (query and update)."""
        return f"http://127.0.0.1:{self.http_port}/sparql-auth"

    @property
    def public_sparql_url(self) -> str:
        """The anonymous, read-only SPARQL endpoint."""
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def graph_store_url(self) -> str:
        """The authenticated SPARQL 1.1 Graph Store Protocol endpoint."""
        return f"http://127.0.0.1:{self.http_port}/sparql-graph-crud-auth"

    @property
    def log_file(self) -> Path:
        return self.directory / "virtuoso.log"

    def store(self, graph: str, *, graph_store: bool = True, **options: Any) -> RemoteSparqlStore:
        """A RemoteSparqlStore on `graph` of this server, logged in as the update user.

        `graph_store` loads data through the Graph Store Protocol (about twice as fast as
        INSERT DATA); other keyword arguments go to RemoteSparqlStore.
        """
        from her2kg.stores.remote import RemoteSparqlStore

        if graph_store:
            options.setdefault("graph_store_url", self.graph_store_url)
        return RemoteSparqlStore(self.sparql_url, graph=graph, username=self.username, password=self.password, **options)

    def memory_kib(self) -> tuple[int, int]:
        """(current RSS, peak RSS) of the server process in KiB, from /proc/<pid>/status."""
        values = {"VmRSS": 0, "VmHWM": 0}
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key in values:
                    values[key] = int(rest.split()[0])
        except OSError:
            pass
        return values["VmRSS"], values["VmHWM"]

    def isql(self, sql: str, *, timeout: float = 120.0) -> str:
        """Run SQL statements as the database administrator through `isql-vt`; return its output."""
        return _isql(self.sql_port, self.dba_password, sql, timeout=timeout)

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `timeout` seconds)."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)


def write_config(directory: Path, *, http_port: int, sql_port: int, settings: VirtuosoSettings) -> Path:
    """Write `virtuoso.ini` into `directory`: the package default with our paths, ports and limits."""
    template = _template_text()
    values: dict[str, dict[str, str]] = {
        "Database": {
            "DatabaseFile": str(directory / "virtuoso.db"),
            "ErrorLogFile": str(directory / "virtuoso.log"),
            "LockFile": str(directory / "virtuoso.lck"),
            "TransactionFile": str(directory / "virtuoso.trx"),
            "xa_persistent_file": str(directory / "virtuoso.pxa"),
            "Striping": "0",
            "TempStorage": "TempDatabase",
        },
        "TempDatabase": {
            "DatabaseFile": str(directory / "virtuoso-temp.db"),
            "TransactionFile": str(directory / "virtuoso-temp.trx"),
            "Striping": "0",
        },
        "Parameters": {
            "ServerPort": f"127.0.0.1:{sql_port}",
            "DisableUnixSocket": "1",
            "DisableTcpSocket": "0",
            "DirsAllowed": f"., {directory}",
            "NumberOfBuffers": str(settings.buffers),
            "MaxDirtyBuffers": str(settings.max_dirty_buffers),
            "ThreadsPerQuery": str(settings.threads_per_query),
            "CheckpointInterval": "0",
            "AllowOSCalls": "0",
        },
        "HTTPServer": {
            "ServerPort": f"127.0.0.1:{http_port}",
            "ServerRoot": str(directory / "vsp"),
            "EnabledGzipContent": "0",
        },
        "URIQA": {"DefaultHost": f"127.0.0.1:{http_port}"},
        "SPARQL": {
            "ResultSetMaxRows": str(settings.result_rows),
            "MaxQueryExecutionTime": "0",
            "MaxQueryCostEstimationTime": "0",
        },
    }
    # The hosting plug-ins (wiki, mediawiki, ...) are not needed and slow the start down.
    text = _rewrite_ini(template, values, drop_sections={"Plugins"})
    (directory / "vsp").mkdir(exist_ok=True)
    path = directory / "virtuoso.ini"
    path.write_text(text, encoding="utf-8")
    return path


def start_virtuoso(directory: Path, *, settings: VirtuosoSettings | None = None) -> VirtuosoServer:
    """Start a private server whose files live in `directory` (created empty if missing)."""
    settings = settings or VirtuosoSettings()
    binary = virtuoso_binary()
    if binary is None:
        raise VirtuosoError(f"`{SERVER_BINARY}` is not on the PATH; {INSTALL_HINT}")
    if isql_binary() is None:
        raise VirtuosoError(f"`isql-vt` is not on the PATH; {INSTALL_HINT}")
    directory.mkdir(parents=True, exist_ok=True)
    http_port, sql_port = free_port(), free_port()
    while sql_port == http_port:
        sql_port = free_port()
    config = write_config(directory, http_port=http_port, sql_port=sql_port, settings=settings)
    output = open(directory / "server-output.txt", "wb")  # noqa: SIM115 - closed when the process ends
    process = subprocess.Popen(
        [binary, "+foreground", "+configfile", str(config)],
        cwd=directory,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output.close()
    password = secrets.token_urlsafe(18)
    dba_password = secrets.token_urlsafe(18)
    server = VirtuosoServer(directory, http_port, sql_port, USERNAME, password, dba_password, process)
    try:
        _wait_until_up(server, settings.startup_timeout)
        _isql(
            sql_port,
            "dba",
            f"DB.DBA.USER_CREATE('{USERNAME}', '{password}');\n"
            f'GRANT SPARQL_SELECT TO "{USERNAME}";\n'
            f'GRANT SPARQL_UPDATE TO "{USERNAME}";\n'
            f"USER_SET_PASSWORD('dba', '{dba_password}');\n",
            timeout=60,
        )
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def running_virtuoso(directory: Path | None = None, *, settings: VirtuosoSettings | None = None) -> Iterator[VirtuosoServer]:
    """A private server for the duration of a `with` block, in a temporary folder unless given one."""
    with tempfile.TemporaryDirectory(prefix="her2kg-virtuoso-") as scratch:
        server = start_virtuoso(directory or Path(scratch), settings=settings)
        try:
            yield server
        finally:
            server.stop()


# -- internals -------------------------------------------------------------------------------------
def _template_text() -> str:
    """The package's default virtuoso.ini (found next to the binary), or a minimal one."""
    binary = virtuoso_binary()
    if binary is not None:
        candidate = Path(binary).resolve().parent.parent / _TEMPLATE_RELATIVE
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8", errors="replace")
    return "[Database]\n[TempDatabase]\n[Parameters]\n[HTTPServer]\n[URIQA]\n[SPARQL]\n"


def _rewrite_ini(text: str, values: dict[str, dict[str, str]], *, drop_sections: set[str]) -> str:
    """Set `values` in an ini text, keeping its other lines; a key set here replaces every line of it."""
    out: list[str] = []
    section: str | None = None
    pending: dict[str, dict[str, str]] = {name: dict(keys) for name, keys in values.items()}

    def flush(name: str | None) -> None:
        if name is not None and name in pending:
            out.extend(f"{key} = {value}" for key, value in pending.pop(name).items())

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            flush(section)
            section = stripped[1:-1].strip()
            if section not in drop_sections:
                out.append(line)
            continue
        if section in drop_sections:
            continue
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith(";") else None
        if key is not None and section in values and key in values[section]:
            value = pending.get(section, {}).pop(key, None)
            if value is not None:
                out.append(f"{key} = {value}")
            continue  # a duplicate of a key already written
        out.append(line)
    flush(section)
    for name, keys in pending.items():
        out.append(f"[{name}]")
        out.extend(f"{key} = {value}" for key, value in keys.items())
    return "\n".join(out) + "\n"


def _wait_until_up(server: VirtuosoServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = f"{server.public_sparql_url}?query=ASK%7B%7D"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise VirtuosoError(
                f"virtuoso-t exited with code {server.process.returncode} while starting; "
                f"see {server.log_file} and {server.directory / 'server-output.txt'}"
            )
        try:
            with opener.open(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.25)
    raise VirtuosoError(
        f"Virtuoso did not answer on {server.public_sparql_url} within {timeout:g} s; see {server.log_file}"
    )


def _isql(port: int, password: str, sql: str, *, timeout: float) -> str:
    binary = isql_binary()
    if binary is None:
        raise VirtuosoError(f"`isql-vt` is not on the PATH; {INSTALL_HINT}")
    try:
        done = subprocess.run(
            [binary, f"127.0.0.1:{port}", "dba", password, "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF"],
            input=sql.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise VirtuosoError(f"isql on 127.0.0.1:{port} did not finish within {timeout:g} s") from None
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    if done.returncode != 0 or "*** Error" in output:
        raise VirtuosoError(f"isql on 127.0.0.1:{port} failed (exit {done.returncode}): {output.strip()[:800]}")
    return output
