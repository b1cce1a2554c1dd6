"""The SPARQL 1.1 Protocol at /sparql: query by GET or POST; the endpoint is read-only.

- Query: `GET ?query=`, `POST` form-encoded (`query=`), `POST application/sparql-query`.
- No SPARQL Update: `update=` is refused with 400 and `application/sparql-update` with 415.
- SELECT / ASK: `application/sparql-results+json` (default), `+xml`, `text/csv`,
  `text/tab-separated-values`; CONSTRUCT / DESCRIBE: `text/turtle` (default),
  `application/n-triples`, `application/ld+json`, `application/rdf+xml`; chosen by `Accept`.
- No query: the service description (RDF), or the query page when the client asks for HTML.
- Limits: the query runs in a worker process killed at the time limit (503), whose memory is
  capped (`max_memory_bytes`); at most `max_results` rows or triples and `max_response_bytes`
  bytes are returned, and a cut result carries the headers `X-Her2kg-Truncated: true`,
  `X-SPARQL-MaxRows: <limit>` and `X-Her2kg-Max-Bytes: <limit>`; a body over `max_body_bytes`
  gets 413.
- Refused with 400, decided on the parse (`sparql_guard`): SERVICE, LOAD, FROM / FROM NAMED,
  USING, an update sent as a query, any text that does not parse, and the protocol's dataset
  parameters (`default-graph-uri`, `named-graph-uri`, `using-graph-uri`, ...).
- Errors are plain text, as in the SPARQL 1.1 Protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from her2kg.server import negotiation
from her2kg.server.config import SparqlSettings
from her2kg.server.html_page import Page
from her2kg.server.httputil import BodyTimeout, BodyTooLarge, media_type, read_body
from her2kg.server.service_description import service_description
from her2kg.server.sparql_guard import RefusedRequest, precheck_query
from her2kg.server.sparql_pool import PoolBusy, QueryPool, QueryTimeout, WorkerFailed
from her2kg.server.sparql_worker import Failure, NotAcceptable, QueryJob, QueryOutcome
from her2kg.vocabulary import PREFIXES

_DATASET_PARAMETERS = ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri")
_FAILURE_STATUS = {"syntax": 400, "refused": 400, "memory": 503, "internal": 500}
_FORM = "application/x-www-form-urlencoded"
_QUERY = "application/sparql-query"
_UPDATE = "application/sparql-update"
_READ_ONLY = "this endpoint is read-only: SPARQL Update is not offered; send a query (SELECT, ASK, CONSTRUCT, DESCRIBE)"


@dataclass(frozen=True)
class SparqlRequest:
    """What a client asked for, once the protocol's variants are unified."""

    query: str | None
    parameters: Mapping[str, Sequence[str]]


class ProtocolError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class SparqlEndpoint:
    """The /sparql handler; the worker pool is attached once the server has started."""

    def __init__(self, settings: SparqlSettings, page: Page) -> None:
        self.settings = settings
        self.page = page
        self.pool: QueryPool | None = None

    async def handle(self, request: Request) -> Response:
        try:
            parsed = await self._read(request)
            if parsed.query is None:
                return self._no_query(request)
            return await self._query(request, parsed.query)
        except ProtocolError as exc:
            return _text(exc.status, exc.message, exc.headers)
        except BodyTooLarge as exc:
            return _text(413, str(exc))
        except BodyTimeout as exc:
            return _text(408, str(exc), {"Connection": "close"})

    # -- reading the request ---------------------------------------------------------------

    async def _read(self, request: Request) -> SparqlRequest:
        url_parameters = parse_qs(request.url.query, keep_blank_values=True)
        if request.method == "GET":
            if len(request.url.query) > self.settings.max_body_bytes:
                limit = self.settings.max_body_bytes
                raise ProtocolError(413, f"the query string is longer than {limit} bytes; POST the query instead")
            return _unify(url_parameters, None)
        kind = media_type(request)
        if kind == _UPDATE:
            raise ProtocolError(415, _READ_ONLY)
        if kind not in (_FORM, _QUERY):
            raise ProtocolError(
                415, f"unsupported Content-Type {kind or '(none)'!r}; POST a query as {_QUERY} or {_FORM} (query=...)"
            )
        body = await read_body(request, self.settings.max_body_bytes)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(400, "the request body is not UTF-8 text") from None
        if kind == _FORM:
            form = parse_qs(text, keep_blank_values=True)
            return _unify({**url_parameters, **form}, None)
        return _unify(url_parameters, text)

    def _no_query(self, request: Request) -> Response:
        accept = request.headers.get("accept")
        wants_page = negotiation.choose(accept, (negotiation.HTML, *negotiation.GRAPH_TYPES)) == negotiation.HTML
        if negotiation.prefers_html(accept) and wants_page:
            return HTMLResponse(
                self.page.html,
                headers={
                    "Content-Security-Policy": self.page.content_security_policy,
                    "Vary": "Accept",
                    "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer",
                },
            )
        chosen = negotiation.choose(accept, negotiation.GRAPH_TYPES)
        if chosen is None:
            raise ProtocolError(
                406,
                "without a query, /sparql returns its service description; accept one of "
                + ", ".join(negotiation.GRAPH_TYPES) + " (or text/html for the query page)",
            )
        endpoint = str(request.url.replace(query="", fragment=""))
        pool = self._pool()
        body = service_description(endpoint, triples=pool.triples, media_type=chosen)
        return Response(body, media_type=chosen, headers={"Vary": "Accept"})

    def _pool(self) -> QueryPool:
        if self.pool is None:
            raise ProtocolError(503, "the SPARQL workers are still starting; retry in a moment", {"Retry-After": "1"})
        return self.pool

    # -- query -----------------------------------------------------------------------------

    async def _query(self, request: Request, text: str) -> Response:
        try:
            precheck_query(text)  # cheap; the worker decides by the parse before running anything
        except RefusedRequest as exc:
            raise ProtocolError(400, str(exc)) from None
        accept = request.headers.get("accept")
        results_type = negotiation.choose(accept, negotiation.RESULT_TYPES)
        graph_type = negotiation.choose(accept, negotiation.GRAPH_TYPES)
        if results_type is None and graph_type is None:
            raise ProtocolError(406, _not_acceptable("results") + "; " + _not_acceptable("graph"))
        job = QueryJob(
            text=text,
            results_type=results_type,
            graph_type=graph_type,
            max_results=self.settings.max_results,
            prefixes=tuple(PREFIXES.items()),
            max_bytes=self.settings.max_response_bytes,
        )
        outcome = await self._run(lambda pool: pool.run(job))
        if isinstance(outcome, NotAcceptable):
            raise ProtocolError(406, _not_acceptable(outcome.kind))
        if isinstance(outcome, Failure):
            raise ProtocolError(_FAILURE_STATUS.get(outcome.kind, 500), outcome.message)
        if not isinstance(outcome, QueryOutcome):
            raise ProtocolError(500, "the query worker gave an unexpected answer; see the server log")
        headers = {"Vary": "Accept", "Cache-Control": "no-store"}
        if outcome.truncated:
            headers["X-Her2kg-Truncated"] = "true"
            headers["X-SPARQL-MaxRows"] = str(self.settings.max_results)
            headers["X-Her2kg-Max-Bytes"] = str(self.settings.max_response_bytes)
        content_type = outcome.media_type
        if content_type.startswith("text/") or content_type.endswith(("+xml", "+json", "/n-triples")):
            content_type += "; charset=utf-8"
        return Response(outcome.body, headers={**headers, "Content-Type": content_type})

    async def _run(self, call: Callable[[QueryPool], object]) -> object:
        pool = self._pool()
        try:
            return await anyio.to_thread.run_sync(call, pool)
        except QueryTimeout:
            raise ProtocolError(
                503,
                f"the request was stopped after the time limit of {pool.timeout:g} s; narrow the patterns "
                "or add a LIMIT",
                {"Retry-After": "1"},
            ) from None
        except PoolBusy as exc:
            raise ProtocolError(503, str(exc), {"Retry-After": "1"}) from None
        except WorkerFailed as exc:
            raise ProtocolError(503, f"{exc}; it has been restarted", {"Retry-After": "1"}) from None


def _unify(parameters: Mapping[str, Sequence[str]], query_body: str | None) -> SparqlRequest:
    for name in _DATASET_PARAMETERS:
        if name in parameters:
            raise ProtocolError(
                400,
                f"the `{name}` parameter is not supported: this endpoint answers over its one default graph "
                "(the knowledge base and the served patients); leave it out",
            )
    if "update" in parameters:
        raise ProtocolError(400, _READ_ONLY)
    queries = list(parameters.get("query", ()))
    if query_body is not None:
        queries.append(query_body)
    if len(queries) > 1:
        raise ProtocolError(400, "send exactly one `query` per request")
    return SparqlRequest(query=queries[0] if queries else None, parameters=parameters)


def _not_acceptable(kind: str) -> str:
    offered = negotiation.RESULT_TYPES if kind == "results" else negotiation.GRAPH_TYPES
    what = "SELECT and ASK results" if kind == "results" else "CONSTRUCT and DESCRIBE graphs"
    return f"{what} can be returned as {', '.join(offered)}; none of these is in your Accept header"


def _text(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return PlainTextResponse(message + "\n", status_code=status, headers=dict(headers or {}))
