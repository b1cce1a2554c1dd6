"""The server's configuration: a TOML file read with `tomllib`, into frozen dataclasses.

Every section and key is optional; an absent file gives the defaults below (loopback only,
updates off, CORS off, no CDS Hooks issuer). Unknown sections or keys are errors, so that a
typo does not silently fall back to a default. `docs/server.md` has an annotated example.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from her2kg.errors import Her2kgError
from her2kg.safe_io import JsonInputError, read_regular_file, strict_json_loads

_MAX_CONFIG_BYTES = 1_000_000

ALLOWED_JWT_ALGORITHMS: tuple[str, ...] = ("ES384", "RS384")
"""CDS Hooks 2.0.1 recommends ES384 and RS384; `none` and HMAC (HS*) are never accepted."""


class ConfigError(Her2kgError):
    """The configuration file is missing, unreadable or has a wrong key or value."""


@dataclass(frozen=True)
class SparqlSettings:
    """`[sparql]`: limits of the SPARQL 1.1 endpoint."""

    timeout_seconds: float = 10.0
    max_results: int = 10_000
    max_body_bytes: int = 1_000_000
    update_token: str | None = None
    workers: int = 2
    max_memory_bytes: int = 1_073_741_824  # address space a worker may add to run one query (RLIMIT_AS)
    max_response_bytes: int = 20_000_000

    @property
    def updates_enabled(self) -> bool:
        return bool(self.update_token)


@dataclass(frozen=True)
class RecommendSettings:
    """`[recommend]`: limits of `POST /recommend` and of the CDS Hooks services."""

    max_body_bytes: int = 5_000_000
    concurrency: int = 2
    timeout_seconds: float = 30.0  # per request; the worker process is killed at the limit
    max_queue: int = 8  # requests waiting for a worker beyond `concurrency`; more get 503


@dataclass(frozen=True)
class CorsSettings:
    """`[cors]`: browser origins allowed to call the server (empty: CORS off)."""

    allow_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Issuer:
    """One CDS client allowed to call the CDS Hooks services, with its public keys (a JWKS)."""

    iss: str
    jwks: Mapping[str, Any]
    jku: str | None = None


@dataclass(frozen=True)
class CdsHooksSettings:
    """`[cdshooks]`: who may call the CDS services, and how the calls are checked."""

    issuers: tuple[Issuer, ...] = ()
    audience: str | None = None  # base URL the clients call, e.g. https://cds.example.org
    clock_skew_seconds: int = 60
    max_token_lifetime_seconds: int = 3600

    def __post_init__(self) -> None:
        if self.issuers and not self.audience:
            raise ConfigError(
                "[cdshooks] has issuers but no `audience`; set audience to the public base URL the CDS clients "
                'call (e.g. audience = "https://cds.example.org"): tokens are checked against it, never against '
                "the request's Host header"
            )


@dataclass(frozen=True)
class FeedbackSettings:
    """`[feedback]`: where card feedback (accepted / overridden) is appended as JSON lines."""

    file: Path | None = None


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 7878
    patients_dir: Path | None = None
    as_of: date | None = None  # evaluate as of this date instead of today (replaying records)
    sparql: SparqlSettings = field(default_factory=SparqlSettings)
    recommend: RecommendSettings = field(default_factory=RecommendSettings)
    cors: CorsSettings = field(default_factory=CorsSettings)
    cdshooks: CdsHooksSettings = field(default_factory=CdsHooksSettings)
    feedback: FeedbackSettings = field(default_factory=FeedbackSettings)
    keep_alive_seconds: float = 5.0  # idle keep-alive connections are closed after this
    header_timeout_seconds: float = 10.0  # a request head must arrive within this
    body_timeout_seconds: float = 30.0  # a request body must arrive within this
    max_header_bytes: int = 16_384  # request line and headers
    max_connections: int = 200  # concurrent connections; more get 503

    def with_overrides(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        patients_dir: Path | None = None,
        as_of: date | None = None,
    ) -> ServerConfig:
        """Return a copy with the command-line options applied over the file's values."""
        return replace(
            self,
            host=self.host if host is None else host,
            port=self.port if port is None else port,
            patients_dir=self.patients_dir if patients_dir is None else patients_dir,
            as_of=self.as_of if as_of is None else as_of,
        )


_SECTIONS = ("server", "sparql", "recommend", "cors", "cdshooks", "feedback")


def load_config(path: Path | None) -> ServerConfig:
    """Read a TOML configuration file; `None` gives the defaults."""
    if path is None:
        return ServerConfig()
    try:
        raw = tomllib.loads(read_regular_file(path, max_bytes=_MAX_CONFIG_BYTES).decode("utf-8"))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"{path}: cannot read the configuration ({reason}); check the --config path") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); see docs/server.md for an example") from exc
    return config_from_mapping(raw, base_dir=path.parent, origin=str(path))


def config_from_mapping(raw: Mapping[str, Any], *, base_dir: Path, origin: str = "configuration") -> ServerConfig:
    """Build a `ServerConfig` from parsed TOML; relative file names are taken from `base_dir`."""
    reader = _Reader(origin)
    reader.known(raw, "", _SECTIONS)
    server = reader.table(raw, "server")
    reader.known(
        server,
        "server",
        (
            "host",
            "port",
            "patients",
            "as_of",
            "keep_alive_seconds",
            "header_timeout_seconds",
            "body_timeout_seconds",
            "max_header_bytes",
            "max_connections",
        ),
    )
    sparql = reader.table(raw, "sparql")
    reader.known(
        sparql,
        "sparql",
        (
            "timeout_seconds",
            "max_results",
            "max_body_bytes",
            "update_token",
            "workers",
            "max_memory_bytes",
            "max_response_bytes",
        ),
    )
    recommend = reader.table(raw, "recommend")
    reader.known(recommend, "recommend", ("max_body_bytes", "concurrency", "timeout_seconds", "max_queue"))
    cors = reader.table(raw, "cors")
    reader.known(cors, "cors", ("allow_origins",))
    cds = reader.table(raw, "cdshooks")
    reader.known(
        cds, "cdshooks", ("issuers", "audience", "clock_skew_seconds", "max_token_lifetime_seconds")
    )
    feedback = reader.table(raw, "feedback")
    reader.known(feedback, "feedback", ("file",))

    patients = reader.string(server, "server", "patients", None)
    token = reader.string(sparql, "sparql", "update_token", None)
    feedback_file = reader.string(feedback, "feedback", "file", None)
    as_of = reader.date(server.get("as_of"), "server.as_of")
    host = reader.string(server, "server", "host", "127.0.0.1")
    if not host or not host.strip():
        reader.fail("[server] `host` is empty; give an interface address such as 127.0.0.1")
    issuers = tuple(_issuer(reader, item, i, base_dir) for i, item in enumerate(reader.tables(cds, "issuers")))
    audience = (reader.string(cds, "cdshooks", "audience", None) or "").rstrip("/") or None
    return ServerConfig(
        host=host,
        keep_alive_seconds=reader.number(server, "server", "keep_alive_seconds", 5.0, minimum=0.1),
        header_timeout_seconds=reader.number(server, "server", "header_timeout_seconds", 10.0, minimum=0.1),
        body_timeout_seconds=reader.number(server, "server", "body_timeout_seconds", 30.0, minimum=0.1),
        max_header_bytes=reader.integer(server, "server", "max_header_bytes", 16_384, minimum=1024),
        max_connections=reader.integer(server, "server", "max_connections", 200, minimum=1),
        port=reader.integer(server, "server", "port", 7878, minimum=0, maximum=65535),
        patients_dir=_resolve(base_dir, patients) if patients else None,
        as_of=as_of,
        sparql=SparqlSettings(
            timeout_seconds=reader.number(sparql, "sparql", "timeout_seconds", 10.0, minimum=0.1),
            max_results=reader.integer(sparql, "sparql", "max_results", 10_000, minimum=1),
            max_body_bytes=reader.integer(sparql, "sparql", "max_body_bytes", 1_000_000, minimum=1),
            update_token=token or None,
            workers=reader.integer(sparql, "sparql", "workers", 2, minimum=1, maximum=64),
            max_memory_bytes=reader.integer(sparql, "sparql", "max_memory_bytes", 1_073_741_824, minimum=0),
            max_response_bytes=reader.integer(sparql, "sparql", "max_response_bytes", 20_000_000, minimum=1000),
        ),
        recommend=RecommendSettings(
            max_body_bytes=reader.integer(recommend, "recommend", "max_body_bytes", 5_000_000, minimum=1),
            concurrency=reader.integer(recommend, "recommend", "concurrency", 2, minimum=1, maximum=64),
            timeout_seconds=reader.number(recommend, "recommend", "timeout_seconds", 30.0, minimum=0.1),
            max_queue=reader.integer(recommend, "recommend", "max_queue", 8, minimum=0),
        ),
        cors=CorsSettings(allow_origins=reader.strings(cors, "cors", "allow_origins")),
        cdshooks=CdsHooksSettings(
            issuers=issuers,
            audience=audience,
            clock_skew_seconds=reader.integer(cds, "cdshooks", "clock_skew_seconds", 60, minimum=0, maximum=600),
            max_token_lifetime_seconds=reader.integer(
                cds, "cdshooks", "max_token_lifetime_seconds", 3600, minimum=1, maximum=86_400
            ),
        ),
        feedback=FeedbackSettings(file=_resolve(base_dir, feedback_file) if feedback_file else None),
    )


def _resolve(base_dir: Path, name: str) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else base_dir / path


def _issuer(reader: _Reader, item: Mapping[str, Any], index: int, base_dir: Path) -> Issuer:
    where = f"cdshooks.issuers[{index}]"
    reader.known(item, where, ("iss", "jwks_file", "jwks", "jku"))
    iss = reader.string(item, where, "iss", None)
    if not iss:
        reader.fail(f"[{where}] needs `iss`, the issuer URL the CDS client puts in its tokens")
    jwks_file = reader.string(item, where, "jwks_file", None)
    inline = item.get("jwks")
    if (jwks_file is None) == (inline is None):
        reader.fail(f"[{where}] needs exactly one of `jwks_file` (a JWK Set file) or `jwks` (an inline table)")
    if jwks_file is not None:
        path = _resolve(base_dir, jwks_file)
        try:
            jwks = strict_json_loads(read_regular_file(path, max_bytes=_MAX_CONFIG_BYTES))
        except OSError as exc:
            reader.fail(f"[{where}] jwks_file {path}: cannot read it ({exc.strerror or exc})")
        except JsonInputError as exc:
            reader.fail(f"[{where}] jwks_file {path}: not JSON ({exc}); it must hold a JWK Set {{\"keys\": [...]}}")
    else:
        jwks = inline
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or not keys:
        reader.fail(f"[{where}] the JWK Set must be an object with a non-empty `keys` list")
    for n, key in enumerate(keys):
        if not isinstance(key, Mapping) or not key.get("kid"):
            reader.fail(f"[{where}] key {n} has no `kid`; CDS Hooks selects the key by the token's `kid`")
        if key.get("kty") not in ("EC", "RSA"):
            reader.fail(
                f"[{where}] key {key.get('kid')!r} has kty {key.get('kty')!r}; only EC (ES384) and RSA (RS384) "
                "public keys are accepted (symmetric keys are refused by CDS Hooks)"
            )
        if any(part in key for part in ("d", "p", "q", "dp", "dq", "qi")):
            reader.fail(f"[{where}] key {key.get('kid')!r} contains a private part; give only the public key")
    return Issuer(iss=iss, jwks=jwks, jku=reader.string(item, where, "jku", None))


class _Reader:
    """Typed access to a TOML table, with errors that name the key and the expected value."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, message: str) -> Any:
        raise ConfigError(f"{self.origin}: {message}")

    def known(self, table: Mapping[str, Any], where: str, keys: tuple[str, ...]) -> None:
        for key in table:
            if key not in keys:
                place = f"[{where}] " if where else ""
                what = "key" if where else "section"
                self.fail(f"{place}unknown {what} `{key}`; expected one of: {', '.join(keys)}")

    def table(self, raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, Mapping):
            self.fail(f"`{name}` must be a table ([{name}])")
        return value

    def tables(self, raw: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            self.fail(f"`{name}` must be a list of tables, e.g. {name} = [{{iss = \"...\", jwks_file = \"...\"}}]")
        return value

    def string(self, table: Mapping[str, Any], where: str, key: str, default: str | None) -> str | None:
        value = table.get(key, default)
        if value is not None and not isinstance(value, str):
            self.fail(f"[{where}] `{key}` must be a string")
        return value

    def strings(self, table: Mapping[str, Any], where: str, key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"[{where}] `{key}` must be a list of strings")
        return tuple(value)

    def integer(
        self, table: Mapping[str, Any], where: str, key: str, default: int, *, minimum: int, maximum: int | None = None
    ) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"[{where}] `{key}` must be an integer")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            self.fail(f"[{where}] `{key}` is {value}; it must be {bound}")
        return value

    def number(self, table: Mapping[str, Any], where: str, key: str, default: float, *, minimum: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"[{where}] `{key}` must be a number")
        if value < minimum:
            self.fail(f"[{where}] `{key}` is {value}; it must be at least {minimum}")
        return float(value)

    def date(self, value: Any, where: str) -> date | None:
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        return self.fail(f"`{where}` is {value!r}; write a date as YYYY-MM-DD")
