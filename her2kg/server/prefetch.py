"""CDS Hooks prefetch that is not the whole record: fetch what is missing from the FHIR server.

A prefetch value is missing data, never an empty history, when its key is absent, when it is an
OperationOutcome (the client could not run the query), or when it is a searchset Bundle with a
`next` link (only its first page was sent). When the request names its `fhirServer` (with
`fhirAuthorization`, a bearer token), her2kg runs the discovery document's query for that key
itself, following `next` links; otherwise the call is answered 412 as for a missing key.

Fetching is bounded: at most `max_pages` pages per key, `_count` per page, `max_bytes` per
response and `time_budget` seconds for the whole request. `next` links are followed only on the
FHIR server the request names, so the token never leaves it. Plain http is accepted only for a
server on the loopback interface.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

MISSING: Any = object()  # a prefetch key the request does not carry

_TOKEN = re.compile(r"\{\{\s*context\.(\w+)\s*\}\}")


@dataclass(frozen=True)
class FetchLimits:
    max_pages: int = 20
    page_size: int = 100  # the _count of every search
    max_bytes: int = 20 * 1024 * 1024
    time_budget: float = 15.0  # seconds for all the fetches of one hook call


class PrefetchUnavailable(Exception):
    """Prefetch data is missing and could not be fetched; `keys` names what is missing (HTTP 412)."""

    def __init__(self, keys: list[str], reason: str) -> None:
        super().__init__(f"prefetch {', '.join(keys)}: {reason}")
        self.keys = keys


def needs_fetch(value: Any) -> bool:
    """True when a prefetch value stands for data the client did not send."""
    if value is MISSING:
        return True
    if not isinstance(value, Mapping):
        return False
    if value.get("resourceType") == "OperationOutcome":
        return True
    return value.get("resourceType") == "Bundle" and next_link(value) is not None


def next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in bundle.get("link") or ():
        if isinstance(link, Mapping) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


def complete_prefetch(
    templates: Mapping[str, str],
    prefetch: Mapping[str, Any],
    context: Mapping[str, Any],
    *,
    fhir_server: Any,
    authorization: Any,
    limits: FetchLimits | None = None,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, Any]:
    """The prefetch with every incomplete value replaced by what the FHIR server returns.

    Raises PrefetchUnavailable (naming the keys) when data is missing and there is no usable
    `fhirServer`, or when fetching it fails.
    """
    incomplete = [key for key in templates if needs_fetch(prefetch.get(key, MISSING))]
    if not incomplete:
        return dict(prefetch)
    if not isinstance(fhir_server, str) or not fhir_server:
        raise PrefetchUnavailable(
            incomplete,
            "missing, an OperationOutcome or only a first page, and the request names no fhirServer to fetch "
            "it from; send every prefetch key of the discovery document in full (null when there is no data), "
            "or give fhirServer and fhirAuthorization",
        )
    limits = limits or FetchLimits()
    base = _checked_base(fhir_server, incomplete)
    headers = {"Accept": "application/fhir+json"}
    token = _bearer(authorization, incomplete)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    deadline = time.monotonic() + limits.time_budget
    completed = dict(prefetch)
    with httpx.Client(headers=headers, transport=transport, follow_redirects=False) as client:
        fetcher = _Fetcher(client, base, limits, deadline)
        for key in incomplete:
            query = _render(templates[key], context, key)
            completed[key] = fetcher.fetch(key, query, prefetch.get(key, MISSING))
    return completed


def _checked_base(url: str, keys: list[str]) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise PrefetchUnavailable(keys, f"fhirServer {url[:100]!r} is not an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise PrefetchUnavailable(keys, "fhirServer must use https (plain http only on the loopback interface)")
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bearer(authorization: Any, keys: list[str]) -> str | None:
    if authorization is None:
        return None
    if not isinstance(authorization, Mapping):
        raise PrefetchUnavailable(keys, "fhirAuthorization must be an object with access_token and token_type")
    token = authorization.get("access_token")
    kind = authorization.get("token_type")
    if not isinstance(token, str) or not token or not isinstance(kind, str) or kind.lower() != "bearer":
        raise PrefetchUnavailable(keys, "fhirAuthorization needs an access_token of token_type Bearer")
    return token


def _render(template: str, context: Mapping[str, Any], key: str) -> str:
    def value(match: re.Match[str]) -> str:
        found = context.get(match[1])
        if not isinstance(found, str) or not found or not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", found):
            raise PrefetchUnavailable([key], f"the prefetch query of {key} needs context.{match[1]}, a FHIR id")
        return found

    return _TOKEN.sub(value, template)


class _Fetcher:
    def __init__(self, client: httpx.Client, base: str, limits: FetchLimits, deadline: float) -> None:
        self.client = client
        self.base = base
        self.limits = limits
        self.deadline = deadline

    def fetch(self, key: str, query: str, sent: Any) -> dict[str, Any]:
        """The resource, or a searchset Bundle with every page's entries."""
        if "?" not in query:  # a read such as Patient/123
            return self._get(key, f"{self.base}/{query}", {})
        path, _, search = query.partition("?")
        entries: list[Any] = []
        if isinstance(sent, Mapping) and sent.get("resourceType") == "Bundle":
            entries.extend(sent.get("entry") or ())  # the page the client sent
            url: str | None = next_link(sent)
            params: dict[str, str] = {}
            if url is not None and not self._on_server(url):
                url, params = f"{self.base}/{path}", self._params(search)  # never send the token elsewhere
                entries = []
        else:
            url, params = f"{self.base}/{path}", self._params(search)
        pages = 0
        while url is not None:
            pages += 1
            if pages > self.limits.max_pages:
                raise PrefetchUnavailable(
                    [key], f"the search for {key} has more than {self.limits.max_pages} pages; her2kg stopped"
                )
            page = self._get(key, url, params)
            if page.get("resourceType") != "Bundle":
                raise PrefetchUnavailable([key], f"the search for {key} did not return a Bundle")
            entries.extend(page.get("entry") or ())
            url, params = next_link(page), {}
            if url is not None and not self._on_server(url):
                raise PrefetchUnavailable([key], f"the next page of {key} is not on fhirServer; her2kg did not follow it")
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}

    def _params(self, search: str) -> dict[str, str]:
        params = dict(httpx.QueryParams(search))
        params["_count"] = str(self.limits.page_size)
        return params

    def _on_server(self, url: str) -> bool:
        return url == self.base or url.startswith(self.base + "/") or url.startswith(self.base + "?")

    def _get(self, key: str, url: str, params: Mapping[str, str]) -> dict[str, Any]:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise PrefetchUnavailable([key], "fetching the missing prefetch from fhirServer took too long")
        try:
            # no params for a `next` link: its own query string is the server's cursor
            with self.client.stream("GET", url, params=params or None, timeout=remaining) as response:
                if response.status_code != 200:
                    raise PrefetchUnavailable(
                        [key], f"fhirServer answered HTTP {response.status_code} to the query for {key}"
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > self.limits.max_bytes:
                        raise PrefetchUnavailable([key], f"the answer of fhirServer for {key} is too large")
        except httpx.HTTPError as exc:
            raise PrefetchUnavailable([key], f"fhirServer could not be read for {key} ({type(exc).__name__})") from None
        try:
            document = json.loads(bytes(body))
        except ValueError:
            raise PrefetchUnavailable([key], f"the answer of fhirServer for {key} is not JSON") from None
        if not isinstance(document, dict):
            raise PrefetchUnavailable([key], f"the answer of fhirServer for {key} is not a FHIR resource")
        return document
