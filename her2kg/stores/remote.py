"""A TripleStore on a SPARQL 1.1 server, spoken to over the SPARQL 1.1 Protocol (standard library only).

Every operation works on one named graph of the server, `graph`, which plays the part of the
default graph the rule files assume (rule files never name a graph):

- **queries** are sent with the protocol parameter `default-graph-uri=<graph>`;
- **updates** (the rules) are sent as `WITH <graph> INSERT { ... } WHERE { ... }`: the store
  writes `WITH <graph>` between the rule's prologue (PREFIX/BASE lines and comments) and its
  INSERT/DELETE keyword, and changes nothing else. `WITH` is the only standard way to name the
  graph an INSERT without `GRAPH` writes to: the protocol parameter `using-graph-uri` sets only
  the graph the WHERE clause reads, and a standard server then writes into its own unnamed
  default graph. (Virtuoso is the exception: it also writes into the `using-graph-uri` graph;
  `update_graph="using-graph-uri"` sends the rule text untouched that way, for such servers.)
  A server must refuse an update that carries both `WITH` and `using-graph-uri`, so the store
  sends one or the other, never both;
- `INSERT DATA` / `DELETE DATA` get their triples wrapped in `GRAPH <graph> { ... }`;
- `load_ntriples` sends batches of `INSERT DATA { GRAPH <graph> { ... } }`, or, when
  `graph_store_url` is given, POSTs N-Triples batches to the SPARQL 1.1 Graph Store Protocol.

Queries are POSTed form-encoded (`query=...`) by default, the form every SPARQL 1.1 server
accepts. The direct form (`Content-Type: application/sparql-query`) is available with
`query_encoding="direct"`; Virtuoso 7.2 never answers it (the connection hangs until the
timeout), so it is not the default.
"""

from __future__ import annotations

import json
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from her2kg.errors import Her2kgError
from her2kg.stores.base import Row

QueryEncoding = Literal["form", "direct"]
UpdateGraph = Literal["with", "using-graph-uri"]

# Measured on Virtuoso 7.2 (520,000 triples, loopback): INSERT DATA peaks at about 2,000 triples
# a request (74,000 triples/s; at about 5,000 its SPARQL parser runs out of memory), the Graph
# Store Protocol at about 20,000 triples a request (136,000 triples/s).
DEFAULT_BATCH_TRIPLES = 2000
DEFAULT_GRAPH_STORE_BATCH_TRIPLES = 20000
# INSERT ... WHERE {} (the form blank nodes need) compiles to far more SQL on Virtuoso than INSERT DATA
BLANK_NODE_BATCH_TRIPLES = 200
DEFAULT_RETRIES = 6
RETRY_PAUSE = 0.2  # seconds before the first retry; doubled each time, with jitter
_RESULTS_JSON = "application/sparql-results+json"


class RemoteStoreError(Her2kgError):
    """A SPARQL server refused a request or could not be reached."""

    def __init__(self, url: str, status: int | None, message: str) -> None:
        url = redact_url(url)
        where = f"{url} answered HTTP {status}" if status is not None else f"{url} could not be reached"
        super().__init__(f"{where}: {message}")
        self.url = url
        self.status = status
        self.message = message


@dataclass(frozen=True)
class RemoteEndpoint:
    """Where a remote store sends its requests, and how."""

    query_url: str
    update_url: str
    graph: str
    graph_store_url: str | None = None
    timeout: float = 60.0
    query_encoding: QueryEncoding = "form"
    update_graph: UpdateGraph = "with"
    batch_triples: int = DEFAULT_BATCH_TRIPLES
    retries: int = DEFAULT_RETRIES


class RemoteSparqlStore:
    """A TripleStore over the SPARQL 1.1 Protocol, confined to one named graph of the server.

    `username`/`password` are sent with HTTP digest or basic authentication, whichever the
    server asks for. Every failure raises `RemoteStoreError` naming the URL and the HTTP status.
    """

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        *,
        graph: str,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 60.0,
        graph_store_url: str | None = None,
        query_encoding: QueryEncoding = "form",
        update_graph: UpdateGraph = "with",
        batch_triples: int | None = None,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        if ":" not in graph or any(c in graph for c in "<>\"{}|^`\\ \n"):
            raise ValueError(f"graph must be an absolute IRI without spaces or <>\"{{}}|^`\\, got {graph!r}")
        if query_encoding not in ("form", "direct"):
            raise ValueError(f"query_encoding must be 'form' or 'direct', got {query_encoding!r}")
        if update_graph not in ("with", "using-graph-uri"):
            raise ValueError(f"update_graph must be 'with' or 'using-graph-uri', got {update_graph!r}")
        if batch_triples is None:
            batch_triples = DEFAULT_GRAPH_STORE_BATCH_TRIPLES if graph_store_url else DEFAULT_BATCH_TRIPLES
        if batch_triples < 1:
            raise ValueError(f"batch_triples must be at least 1, got {batch_triples}")
        self.endpoint = RemoteEndpoint(
            query_url=query_url,
            update_url=update_url or query_url,
            graph=graph,
            graph_store_url=graph_store_url,
            timeout=timeout,
            query_encoding=query_encoding,
            update_graph=update_graph,
            batch_triples=batch_triples,
            retries=max(0, retries),
        )
        self._opener = _opener(username, password, [query_url, update_url or query_url, graph_store_url])

    @property
    def graph(self) -> str:
        return self.endpoint.graph

    def __repr__(self) -> str:
        return f"RemoteSparqlStore({redact_url(self.endpoint.query_url)!r}, graph={self.endpoint.graph!r})"

    # -- TripleStore ----------------------------------------------------------------------------
    def load_ntriples(self, data: str) -> None:
        """Add an N-Triples document to the graph, in batches of `batch_triples` lines.

        Blank-node labels are scoped to one request, so every triple that mentions a blank node
        goes into one final request, keeping the document's blank nodes together.
        """
        for batch, has_blank_nodes in _batches(data, self.endpoint.batch_triples):
            if self.endpoint.graph_store_url:
                self._post_graph_store(batch)
            elif has_blank_nodes:
                # INSERT DATA may hold blank nodes in SPARQL 1.1, but Virtuoso refuses them there
                # ("Blank node is not allowed in a constant clause"); a template with an empty
                # WHERE inserts the same triples, with fresh blank nodes, on every server.
                self._post_update(f"INSERT {{ GRAPH <{self.graph}> {{\n{batch}\n}} }} WHERE {{}}", params=[])
            else:
                self._post_update(f"INSERT DATA {{ GRAPH <{self.graph}> {{\n{batch}\n}} }}", params=[])

    def update(self, sparql: str) -> None:
        """Run one SPARQL 1.1 Update on the graph (see the module docstring for how)."""
        if self.endpoint.update_graph == "using-graph-uri":
            self._post_update(sparql, params=[("using-graph-uri", self.graph)])
            return
        self._post_update(scope_update(sparql, self.graph), params=[])

    def select(self, sparql: str) -> list[Row]:
        """Run a SELECT on the graph and return rows of IRI strings / literal lexical forms."""
        body = self._post_query(sparql, accept=_RESULTS_JSON)
        try:
            document = json.loads(body)
            variables = document["head"].get("vars", [])
            bindings = document["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteStoreError(self.endpoint.query_url, 200, f"the answer is not SPARQL JSON results ({exc})") from exc
        return [{name: _lexical(binding[name]) for name in variables if name in binding} for binding in bindings]

    def triple_count(self) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        try:
            return int(rows[0]["n"])
        except (IndexError, KeyError, ValueError) as exc:
            raise RemoteStoreError(self.endpoint.query_url, 200, f"COUNT(*) returned {rows!r}") from exc

    # -- beyond the protocol ----------------------------------------------------------------------
    def clear(self) -> None:
        """Remove every triple of the graph (`CLEAR SILENT GRAPH <graph>`)."""
        self._post_update(f"CLEAR SILENT GRAPH <{self.graph}>", params=[])

    def ask(self, sparql: str) -> bool:
        body = self._post_query(sparql, accept=_RESULTS_JSON)
        try:
            return bool(json.loads(body)["boolean"])
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteStoreError(self.endpoint.query_url, 200, f"the answer is not a SPARQL boolean ({exc})") from exc

    # -- HTTP -------------------------------------------------------------------------------------
    def _post_query(self, sparql: str, *, accept: str) -> bytes:
        url = self.endpoint.query_url
        params = [("default-graph-uri", self.graph)]
        if self.endpoint.query_encoding == "direct":
            return self._send(_with_params(url, params), sparql.encode("utf-8"), "application/sparql-query", accept)
        form = urllib.parse.urlencode([("query", sparql), *params]).encode("ascii")
        return self._send(url, form, "application/x-www-form-urlencoded", accept)

    def _post_update(self, sparql: str, *, params: list[tuple[str, str]]) -> None:
        url = _with_params(self.endpoint.update_url, params)
        self._send(url, sparql.encode("utf-8"), "application/sparql-update", _RESULTS_JSON + ", */*;q=0.1")

    def _post_graph_store(self, ntriples: str) -> None:
        assert self.endpoint.graph_store_url is not None
        url = _with_params(self.endpoint.graph_store_url, [("graph", self.graph)])
        self._send(url, ntriples.encode("utf-8"), "application/n-triples", "*/*")

    def _send(self, url: str, body: bytes, content_type: str, accept: str) -> bytes:
        """POST once, and again after a pause while the server reports a transient conflict."""
        for attempt in range(self.endpoint.retries + 1):
            try:
                return self._send_once(url, body, content_type, accept)
            except _TransientError as exc:
                if attempt == self.endpoint.retries:
                    raise RemoteStoreError(
                        _plain(url), exc.status, f"{exc.message} (still failing after {attempt + 1} attempts; "
                        "fewer cohort processes on this server would conflict less)"
                    ) from None
                time.sleep(min(RETRY_PAUSE * 2**attempt, 5.0) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def _send_once(self, url: str, body: bytes, content_type: str, accept: str) -> bytes:
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": content_type, "Accept": accept}
        )
        try:
            with self._opener.open(request, timeout=self.endpoint.timeout) as response:
                payload: bytes = response.read()
                headers = response.headers
        except urllib.error.HTTPError as exc:
            detail = _error_text(exc)
            if exc.code == 503 or (exc.code >= 500 and _is_conflict(detail)):
                raise _TransientError(exc.code, detail) from None
            hint = " (check the username and password)" if exc.code in (401, 403) else ""
            raise RemoteStoreError(_plain(url), exc.code, f"{detail}{hint}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RemoteStoreError(
                _plain(url), None, f"{reason}; check that the server runs and the URL is right (timeout {self.endpoint.timeout:g} s)"
            ) from None
        _check_complete(_plain(url), headers)
        return payload


class _TransientError(Exception):
    """A conflict the server asks to retry (a deadlocked transaction, 503)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# Virtuoso: "SR172: Transaction deadlocked" (SQL state 40001, serialization failure): the
# transaction was rolled back and may be run again. Concurrent updates from several cohort
# processes meet this even when each works in a graph of its own.
_CONFLICT = re.compile(r"\b40001\b|SR172|deadlock", re.IGNORECASE)


def _is_conflict(text: str) -> bool:
    return bool(_CONFLICT.search(text))


# -- update scoping --------------------------------------------------------------------------------
_PROLOGUE_ITEM = re.compile(
    r"\s+|#[^\n]*(?:\n|$)|PREFIX\s+[^\s:]*:\s*<[^>\s]*>|BASE\s*<[^>\s]*>",
    re.IGNORECASE,
)
_MODIFY = re.compile(r"(?:INSERT|DELETE)\b", re.IGNORECASE)
_DATA = re.compile(r"(?:INSERT|DELETE)\s+DATA\s*\{", re.IGNORECASE)
_WITH = re.compile(r"WITH\s*<", re.IGNORECASE)


def _prologue_end(sparql: str) -> int:
    position = 0
    while True:
        match = _PROLOGUE_ITEM.match(sparql, position)
        if match is None or match.end() == position:
            return position
        position = match.end()


def scope_update(sparql: str, graph: str) -> str:
    """Make one SPARQL 1.1 Update operate on `graph` instead of the default graph.

    `PREFIX ... INSERT/DELETE { ... } WHERE { ... }` becomes `PREFIX ... WITH <graph> INSERT ...`
    (nothing else of the text changes); `INSERT DATA { T }` becomes `INSERT DATA { GRAPH <graph> { T } }`;
    an update that already starts with `WITH <...>` is sent as it is. Anything else (LOAD, CLEAR,
    several operations, ...) raises ValueError, because it cannot be scoped to the graph safely.
    """
    start = _prologue_end(sparql)
    if _operation_count(sparql[start:]) > 1:
        raise ValueError(
            "cannot scope a request of several operations (separated by ';') to the store's graph; "
            "send one operation per update() call"
        )
    data = _DATA.match(sparql, start)
    if data is not None:
        body = sparql.rstrip().removesuffix(";").rstrip()
        if not body.endswith("}"):
            raise ValueError("an INSERT DATA / DELETE DATA request must end with its closing '}'")
        return f"{sparql[: data.end()]} GRAPH <{graph}> {{{body[data.end() : -1]}}} }}"
    if _MODIFY.match(sparql, start) is not None:
        return f"{sparql[:start]}WITH <{graph}>\n{sparql[start:]}"
    if _WITH.match(sparql, start) is not None:
        return sparql
    head = sparql[start : start + 40].split("\n")[0]
    raise ValueError(
        f"cannot scope this update to the store's graph (it starts with {head!r}); "
        "the store runs INSERT/DELETE ... WHERE and INSERT/DELETE DATA operations; "
        "use load_ntriples() to add data and clear() to empty the graph"
    )


_LITERAL_OR_IRI = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')


def _strip_literals(text: str) -> str:
    return _LITERAL_OR_IRI.sub(" ", text)


def _operation_count(text: str) -> int:
    """How many operations a request holds: ';' at brace depth 0 separates them (a final ';' is allowed)."""
    depth = 0
    count = 1
    stripped = _strip_literals(text)
    for index, char in enumerate(stripped):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == ";" and depth == 0 and stripped[index + 1 :].strip():
            count += 1
    return count


# -- helpers ---------------------------------------------------------------------------------------
def _batches(data: str, size: int) -> Iterator[tuple[str, bool]]:
    """Split an N-Triples document into (batch, has blank nodes): batches of at most `size` triples,
    then the triples that mention blank nodes, a whole group of connected blank nodes per batch (a
    request mints its own blank nodes, so a group must not be split), at most `size` triples a batch
    unless one group is larger; blank-node batches hold at most BLANK_NODE_BATCH_TRIPLES."""
    batch: list[str] = []
    groups: dict[str, list[str]] = {}
    parent: dict[str, str] = {}

    def root(label: str) -> str:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    for line in data.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        labels = _BLANK_NODE.findall(_strip_literals(stripped))
        if labels:
            first = root(labels[0])
            for other in labels[1:]:
                other_root = root(other)
                if other_root != first:
                    parent[other_root] = first
                    groups.setdefault(first, []).extend(groups.pop(other_root, []))
            groups.setdefault(first, []).append(stripped)
            continue
        batch.append(stripped)
        if len(batch) >= size:
            yield "\n".join(batch), False
            batch = []
    if batch:
        yield "\n".join(batch), False
    pending: list[str] = []
    blank_size = min(size, BLANK_NODE_BATCH_TRIPLES)
    for group in groups.values():
        if pending and len(pending) + len(group) > blank_size:
            yield "\n".join(pending), True
            pending = []
        pending.extend(group)
    if pending:
        yield "\n".join(pending), True


_BLANK_NODE = re.compile(r"_:[A-Za-z0-9_][A-Za-z0-9_.\-]*")


_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_BOOLEAN_FORMS = {"1": "true", "0": "false"}


def _lexical(term: dict[str, str]) -> str:
    """The value of a SPARQL JSON term; xsd:boolean in its canonical form (Virtuoso answers 1/0)."""
    value = term["value"]
    if term.get("datatype") == _XSD_BOOLEAN:
        return _BOOLEAN_FORMS.get(value, value)
    return value


def _with_params(url: str, params: list[tuple[str, str]]) -> str:
    if not params:
        return url
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + separator + urllib.parse.urlencode(params)


def _plain(url: str) -> str:
    """The URL without its query string (which may hold a long graph IRI) and without credentials."""
    parts = urllib.parse.urlsplit(url)
    return redact_url(urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))


def redact_url(url: str) -> str:
    """The URL with any `user:password@` replaced by `***@`, for messages and logs."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "(a URL that does not parse)"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read().decode("utf-8", "replace")
    except OSError:
        text = ""
    text = " ".join(text.split())
    if len(text) > 600:
        text = text[:600] + " ..."
    return text or str(exc.reason)


def _check_complete(url: str, headers: object) -> None:
    """Refuse partial answers: Virtuoso marks a timed-out ("anytime") or row-capped result in headers."""
    get = getattr(headers, "get", None)
    if get is None:
        return
    state = get("X-SQL-State")
    message = get("X-SQL-Message", "") or ""
    if state and _is_conflict(f"{state} {message}"):
        raise _TransientError(200, f"{state}: {message}")
    if state:
        raise RemoteStoreError(
            url, 200, f"the server returned a partial result ({state}: {message}); "
            "raise its query time limit (Virtuoso: [SPARQL] MaxQueryExecutionTime) or use smaller chunks"
        )
    capped = get("X-SPARQL-MaxRows")
    if capped:
        raise RemoteStoreError(
            url, 200, f"the server cut the result at {capped} rows; raise its row limit "
            "(Virtuoso: [SPARQL] ResultSetMaxRows) or use smaller chunks"
        )


def _opener(username: str | None, password: str | None, urls: list[str | None]) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = []
    if username is not None:
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        for url in urls:
            if url:
                manager.add_password(None, url, username, password or "")
        handlers += [urllib.request.HTTPDigestAuthHandler(manager), urllib.request.HTTPBasicAuthHandler(manager)]
    # No proxies: the store talks to the URL it was given, never through an environment proxy.
    handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)
