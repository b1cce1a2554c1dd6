"""The server's configuration: a TOML file read with `tomllib` into typed, frozen pydantic models.

Every section and key is optional; an absent file gives the defaults below (loopback only,
CORS off, no CDS Hooks issuer). Unknown sections or keys are errors naming the key, so that a
typo does not silently fall back to a default; so is a value of the wrong type or out of its
bounds. `docs/server.md` has an annotated example, `docs/security.md` the limits.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from her2kg.errors import Her2kgError
from her2kg.safe_io import JsonInputError, read_regular_file, strict_json_loads

_MAX_CONFIG_BYTES = 1_000_000

ALLOWED_JWT_ALGORITHMS: tuple[str, ...] = ("ES384", "RS384")
"""CDS Hooks 2.0.1 recommends ES384 and RS384; `none` and HMAC (HS*) are never accepted."""


class ConfigError(Her2kgError):
    """The configuration file is missing, unreadable or has a wrong key or value."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SparqlSettings(_Section):
    """`[sparql]`: limits of the (read-only) SPARQL 1.1 endpoint."""

    timeout_seconds: float = Field(default=10.0, ge=0.1)
    max_results: int = Field(default=10_000, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    workers: int = Field(default=2, ge=1, le=64)
    # address space a worker may add to run one query (RLIMIT_AS)
    max_memory_bytes: int = Field(default=1_073_741_824, ge=0)
    max_response_bytes: int = Field(default=20_000_000, ge=1000)


class RecommendSettings(_Section):
    """`[recommend]`: limits of `POST /recommend` and of the CDS Hooks services."""

    max_body_bytes: int = Field(default=5_000_000, ge=1)
    concurrency: int = Field(default=2, ge=1, le=64)
    timeout_seconds: float = Field(default=30.0, ge=0.1)  # per request; the worker process is killed at the limit
    max_queue: int = Field(default=8, ge=0)  # requests waiting for a worker beyond `concurrency`; more get 503


class CorsSettings(_Section):
    """`[cors]`: browser origins allowed to call the server (empty: CORS off)."""

    allow_origins: tuple[str, ...] = Field(default=(), strict=False)  # a TOML array


class Issuer(_Section):
    """One CDS client allowed to call the CDS Hooks services, with its public keys (a JWKS).

    In the file, the keys are given inline (`jwks`) or as a JWK Set file (`jwks_file`, read
    relative to the configuration file); exactly one of the two.
    """

    iss: str = Field(min_length=1)
    jwks: dict[str, Any]
    jku: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_jwks_file(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if not data.get("iss"):
            raise ValueError("needs `iss`, the issuer URL the CDS client puts in its tokens")
        jwks_file = data.pop("jwks_file", None)
        if (jwks_file is None) == (data.get("jwks") is None):
            raise ValueError("needs exactly one of `jwks_file` (a JWK Set file) or `jwks` (an inline table)")
        if jwks_file is not None:
            if not isinstance(jwks_file, str):
                raise ValueError("`jwks_file` must be a string")
            base_dir = (info.context or {}).get("base_dir", Path("."))
            path = _resolve(base_dir, jwks_file)
            try:
                data["jwks"] = strict_json_loads(read_regular_file(path, max_bytes=_MAX_CONFIG_BYTES))
            except OSError as exc:
                raise ValueError(f"jwks_file {path}: cannot read it ({exc.strerror or exc})") from None
            except JsonInputError as exc:
                raise ValueError(
                    f'jwks_file {path}: not JSON ({exc}); it must hold a JWK Set {{"keys": [...]}}'
                ) from None
        return data

    @field_validator("jwks")
    @classmethod
    def _public_keys(cls, jwks: dict[str, Any]) -> dict[str, Any]:
        keys = jwks.get("keys")
        if not isinstance(keys, list) or not keys:
            raise ValueError("the JWK Set must be an object with a non-empty `keys` list")
        for n, key in enumerate(keys):
            if not isinstance(key, Mapping) or not key.get("kid"):
                raise ValueError(f"key {n} has no `kid`; CDS Hooks selects the key by the token's `kid`")
            if key.get("kty") not in ("EC", "RSA"):
                raise ValueError(
                    f"key {key.get('kid')!r} has kty {key.get('kty')!r}; only EC (ES384) and RSA (RS384) public "
                    "keys are accepted (symmetric keys are refused by CDS Hooks)"
                )
            if any(part in key for part in ("d", "p", "q", "dp", "dq", "qi")):
                raise ValueError(f"key {key.get('kid')!r} contains a private part; give only the public key")
        return jwks


class CdsHooksSettings(_Section):
    """`[cdshooks]`: who may call the CDS services, and how the calls are checked."""

    issuers: tuple[Issuer, ...] = Field(default=(), strict=False)  # a TOML array of tables
    audience: str | None = None  # base URL the clients call, e.g. https://cds.example.org
    clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    max_token_lifetime_seconds: int = Field(default=3600, ge=1, le=86_400)

    @field_validator("audience")
    @classmethod
    def _without_trailing_slash(cls, value: str | None) -> str | None:
        return (value or "").rstrip("/") or None

    @model_validator(mode="after")
    def _audience_for_issuers(self) -> Self:
        if self.issuers and not self.audience:
            raise ConfigError(
                "[cdshooks] has issuers but no `audience`; set audience to the public base URL the CDS clients "
                'call (e.g. audience = "https://cds.example.org"): tokens are checked against it, never against '
                "the request's Host header"
            )
        return self


class FeedbackSettings(_Section):
    """`[feedback]`: where card feedback (accepted / overridden) is appended as JSON lines."""

    file: Path | None = Field(default=None, description="relative to the configuration file")

    @field_validator("file", mode="before")
    @classmethod
    def _relative_to_config(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            return _resolve((info.context or {}).get("base_dir", Path(".")), value) if value else None
        return value


class ServerConfig(_Section):
    """The whole configuration; the keys of `[server]` are its own fields (`patients` sets `patients_dir`)."""

    host: str = "127.0.0.1"
    port: int = Field(default=7878, ge=0, le=65535)
    patients_dir: Path | None = Field(default=None, validation_alias="patients")
    as_of: date | None = None  # evaluate as of this date instead of today (replaying records)
    sparql: SparqlSettings = SparqlSettings()
    recommend: RecommendSettings = RecommendSettings()
    cors: CorsSettings = CorsSettings()
    cdshooks: CdsHooksSettings = CdsHooksSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    keep_alive_seconds: float = Field(default=5.0, ge=0.1)  # idle keep-alive connections are closed after this
    header_timeout_seconds: float = Field(default=10.0, ge=0.1)  # a request head must arrive within this
    body_timeout_seconds: float = Field(default=30.0, ge=0.1)  # a request body must arrive within this
    max_header_bytes: int = Field(default=16_384, ge=1024)  # request line and headers
    max_connections: int = Field(default=200, ge=1)  # concurrent connections; more get 503

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_by_name=True, validate_by_alias=True)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("`host` is empty; give an interface address such as 127.0.0.1")
        return value

    @field_validator("patients_dir", mode="before")
    @classmethod
    def _patients_relative_to_config(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            return _resolve((info.context or {}).get("base_dir", Path(".")), value) if value else None
        return value

    @field_validator("as_of", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"`as_of` is {value!r}; write a date as YYYY-MM-DD")

    def with_overrides(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        patients_dir: Path | None = None,
        as_of: date | None = None,
    ) -> ServerConfig:
        """Return a copy with the command-line options applied over the file's values."""
        given = {"host": host, "port": port, "patients_dir": patients_dir, "as_of": as_of}
        return self.model_copy(update={k: v for k, v in given.items() if v is not None})


_SECTIONS = ("server", "sparql", "recommend", "cors", "cdshooks", "feedback")
_SERVER_KEYS = tuple(
    "patients" if name == "patients_dir" else name for name in ServerConfig.model_fields if name not in _SECTIONS
)


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
    for name in raw:
        if name not in _SECTIONS:
            raise ConfigError(f"{origin}: unknown section `{name}`; expected one of: {', '.join(_SECTIONS)}")
    server = raw.get("server", {})
    if not isinstance(server, Mapping):
        raise ConfigError(f"{origin}: `server` must be a table ([server])")
    for key in server:
        if key not in _SERVER_KEYS:
            raise ConfigError(f"{origin}: [server] unknown key `{key}`; expected one of: {', '.join(_SERVER_KEYS)}")
    flat = {**server, **{name: raw[name] for name in _SECTIONS if name != "server" and name in raw}}
    try:
        return ServerConfig.model_validate(flat, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {_explain(exc)}") from None
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def _explain(exc: ValidationError) -> str:
    """The first problem, worded with the TOML section and key."""
    error = exc.errors(include_url=False)[0]
    loc = [str(part) for part in error["loc"]]
    if loc and loc[0] in _SECTIONS:
        section, rest = loc[0], loc[1:]
    else:
        section, rest = "server", loc
    key, path = ("", rest) if not rest or rest[-1].isdigit() else (rest[-1], rest[:-1])
    where = f"[{section}" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path) + "]"
    kind, value, context = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        names = [*model.model_fields, *(["jwks_file"] if model is Issuer else [])] if model is not None else []
        expected = ", ".join(names)
        return f"{where} unknown key `{key}`; expected one of: {expected}"
    if kind in ("int_type", "int_parsing"):
        return f"{where} `{key}` must be an integer"
    if kind in ("float_type", "float_parsing"):
        return f"{where} `{key}` must be a number"
    if kind in ("string_type",):
        return f"{where} `{key}` must be a string"
    if kind in ("tuple_type", "list_type"):
        return f"{where} `{key}` must be a list"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where} `{key}` must be a table"
    if kind in ("greater_than_equal", "less_than_equal"):
        bounds = " and ".join(f"{'at least' if k == 'ge' else 'at most'} {v}" for k, v in context.items())
        return f"{where} `{key}` is {value}; it must be {bounds}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where} {message}" if key in ("", "jwks") or kind == "value_error" else f"{where} `{key}`: {message}"


def _model_at(loc: list[str]) -> type[BaseModel] | None:
    path = tuple(part for part in loc if not part.isdigit())
    return _MODELS.get(path)


_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): ServerConfig,
    ("sparql",): SparqlSettings,
    ("recommend",): RecommendSettings,
    ("cors",): CorsSettings,
    ("cdshooks",): CdsHooksSettings,
    ("cdshooks", "issuers"): Issuer,
    ("feedback",): FeedbackSettings,
}


def _resolve(base_dir: Path, name: str) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else base_dir / path
