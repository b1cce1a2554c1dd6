"""CDS Hooks client authentication: the signed JWT in `Authorization: Bearer <JWT>`.

CDS Hooks 2.0.1, "Trusting CDS Clients": every call carries a JWT signed with the client's
private key. This module accepts a token only when

- the header's `alg` is ES384 or RS384 (never `none`, never HMAC), `kid` is present and `typ`,
  when present, is `JWT`;
- `iss` is on the allow-list of the configuration, and `kid` names a key of that issuer's
  JWKS whose type fits the algorithm; if the issuer is configured with a `jku`, a `jku` in the
  header must equal it (the JWKS is never fetched);
- the signature verifies, `aud` equals the URL of the endpoint called, `exp` and `iat` are
  present, `exp` is in the future, `iat` is not in the future, and the token does not live
  longer than `max_token_lifetime_seconds` (all with `clock_skew_seconds` of tolerance);
- `jti` is present and has not been seen before from this issuer (replay protection; seen
  identifiers are remembered until their token expires, by the application instance).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from jwt import PyJWK
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from her2kg.server.config import ALLOWED_JWT_ALGORITHMS, CdsHooksSettings, ConfigError, Issuer
from her2kg.server.models import first_problem

_KEY_TYPES = {"ES384": "EC", "RS384": "RSA"}


class AuthenticationError(Exception):
    """The call is not authenticated (HTTP 401); the message says why and what to fix."""


@dataclass(frozen=True)
class Caller:
    """Who called, once the token is verified."""

    iss: str
    kid: str
    jti: str
    tenant: str | None = None


class ReplayCache:
    """Token identifiers already used, each kept until its token's expiry (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def check_and_remember(self, iss: str, jti: str, expires_at: float) -> bool:
        """Remember (iss, jti); False if it was already seen and has not expired."""
        now = self._clock()
        with self._lock:
            if len(self._seen) > 1024:
                for key in [k for k, exp in self._seen.items() if exp < now]:
                    del self._seen[key]
            known = self._seen.get((iss, jti))
            if known is not None and known >= now:
                return False
            self._seen[(iss, jti)] = expires_at
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


@dataclass(frozen=True)
class _IssuerKeys:
    issuer: Issuer
    keys: Mapping[str, PyJWK]


class TokenVerifier:
    """Verifies CDS Hooks JWTs against the configured issuers; holds its own replay cache."""

    def __init__(self, settings: CdsHooksSettings, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._replays = ReplayCache(clock)
        self._issuers = {issuer.iss: _IssuerKeys(issuer, _keys(issuer)) for issuer in settings.issuers}

    @property
    def configured(self) -> bool:
        return bool(self._issuers)

    def verify(self, authorization: str | None, audiences: Iterable[str]) -> Caller:
        """Check an Authorization header for a call whose endpoint URL is one of `audiences`."""
        if not self._issuers:
            raise AuthenticationError(
                "no CDS client is configured; add the client's issuer and JWKS to [cdshooks] issuers"
            )
        token = _bearer(authorization)
        header, iss = _unverified(token)
        entry = self._issuers.get(iss) if iss is not None else None
        if entry is None or iss is None:
            raise AuthenticationError(
                f"the issuer {iss!r} is not allowed; the server's [cdshooks] issuers must list it with its JWKS"
            )
        if header.jku is not None and entry.issuer.jku is not None and header.jku != entry.issuer.jku:
            raise AuthenticationError("the token's `jku` is not the JWK Set URL configured for this issuer")
        key = entry.keys.get(header.kid)
        if key is None:
            raise AuthenticationError(f"the issuer has no key with kid {header.kid!r} in the configured JWKS")
        if key.algorithm_name != header.alg:
            raise AuthenticationError(
                f"the key {header.kid!r} is for {key.algorithm_name}; it cannot verify a {header.alg} token"
            )
        skew = self._settings.clock_skew_seconds
        claims = _claims(_decode(token, key, header.alg, list(dict.fromkeys(audiences)), iss, skew))
        lifetime = self._settings.max_token_lifetime_seconds
        if claims.exp - claims.iat > lifetime + skew:
            raise AuthenticationError(f"the token lives {int(claims.exp - claims.iat)} s; at most {lifetime} s is accepted")
        if claims.iat < self._clock() - lifetime - skew:
            raise AuthenticationError("the token was issued too long ago (iat); send a fresh token")
        if not self._replays.check_and_remember(iss, claims.jti, claims.exp + skew):
            raise AuthenticationError("the token has already been used (jti replay); send a new token with each call")
        return Caller(iss=iss, kid=header.kid, jti=claims.jti, tenant=claims.tenant)


class TokenHeader(BaseModel):
    """The JOSE header of a CDS Hooks JWT, as this server accepts it."""

    model_config = ConfigDict(extra="allow", frozen=True)
    alg: str
    kid: str
    typ: str | None = None
    jku: str | None = None

    @field_validator("alg", mode="before")
    @classmethod
    def _allowed_algorithm(cls, alg: Any) -> Any:
        if alg not in ALLOWED_JWT_ALGORITHMS:
            raise ValueError(
                f"the token is signed with alg {alg!r}; CDS Hooks clients must sign with "
                + " or ".join(ALLOWED_JWT_ALGORITHMS) + " (none and HMAC are refused)"
            )
        return alg

    @field_validator("typ", mode="before")
    @classmethod
    def _jwt_type(cls, typ: Any) -> Any:
        if typ is not None and str(typ).upper() != "JWT":
            raise ValueError(f"the token header has typ {typ!r}; it must be 'JWT'")
        return typ

    @field_validator("kid", mode="before")
    @classmethod
    def _key_id(cls, kid: Any) -> Any:
        if not isinstance(kid, str) or not kid:
            raise ValueError("the token header has no `kid`; it must name the signing key of the JWKS")
        return kid


class TokenClaims(BaseModel):
    """The claims of a verified token that the server reads."""

    model_config = ConfigDict(extra="allow", frozen=True)
    iat: float
    exp: float
    jti: str
    tenant: str | None = None

    @field_validator("iat", "exp", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("the token's iat and exp must be numbers (seconds since the epoch)")
        return value

    @field_validator("jti", mode="before")
    @classmethod
    def _identifier(cls, jti: Any) -> Any:
        if not isinstance(jti, str) or not jti:
            raise ValueError("the token's jti must be a non-empty string")
        return jti

    @field_validator("tenant", mode="before")
    @classmethod
    def _tenant(cls, tenant: Any) -> Any:
        return tenant if isinstance(tenant, str) else None


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationError("the call has no Authorization header; send `Authorization: Bearer <JWT>`")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("the Authorization header must be `Bearer <JWT>`")
    return token


def _unverified(token: str) -> tuple[TokenHeader, str | None]:
    """The checked header, and the issuer the token claims (not yet verified)."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"the bearer token is not a JWT ({exc})") from None
    iss = claims.get("iss")
    return _validated(TokenHeader, header), iss if isinstance(iss, str) else None


def _claims(verified: dict[str, Any]) -> TokenClaims:
    return _validated(TokenClaims, verified)


_Model = TypeVar("_Model", TokenHeader, TokenClaims)


def _validated(model: type[_Model], data: dict[str, Any]) -> _Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise AuthenticationError(first_problem(exc)[1]) from None


def _decode(token: str, key: PyJWK, alg: str, expected: list[str], iss: str, skew: int) -> dict[str, Any]:
    """The claims once the signature, audience, issuer and times verify."""
    try:
        verified: dict[str, Any] = jwt.decode(
            token,
            key=key.key,
            algorithms=[alg],
            audience=expected,
            issuer=iss,
            leeway=skew,
            options={"require": ["iss", "aud", "exp", "iat", "jti"], "verify_iat": True},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("the token has expired (exp); send a fresh token with each call") from None
    except jwt.InvalidAudienceError:
        raise AuthenticationError(f"the token's aud does not name the endpoint called; it must be {expected[0]}") from None
    except jwt.ImmatureSignatureError:
        raise AuthenticationError("the token's iat (or nbf) is in the future; check the client's clock") from None
    except jwt.MissingRequiredClaimError as exc:
        raise AuthenticationError(f"the token lacks the required claim `{exc.claim}`") from None
    except jwt.InvalidSignatureError:
        raise AuthenticationError("the token's signature does not verify with the configured key") from None
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"the token is not valid: {exc}") from None
    return verified


def _keys(issuer: Issuer) -> dict[str, PyJWK]:
    keys: dict[str, PyJWK] = {}
    for data in issuer.jwks.get("keys", []):
        kty = data.get("kty")
        algorithm = data.get("alg") or ("ES384" if kty == "EC" else "RS384")
        if algorithm not in ALLOWED_JWT_ALGORITHMS:
            continue
        if _KEY_TYPES[algorithm] != kty:
            raise ConfigError(f"issuer {issuer.iss}: key {data.get('kid')!r} has kty {kty!r} but alg {algorithm}")
        try:
            keys[str(data["kid"])] = PyJWK(dict(data), algorithm=algorithm)
        except jwt.PyJWTError as exc:
            raise ConfigError(f"issuer {issuer.iss}: key {data.get('kid')!r} is not a valid public JWK ({exc})") from exc
    if not keys:
        raise ConfigError(f"issuer {issuer.iss}: its JWKS has no ES384 or RS384 key")
    return keys
