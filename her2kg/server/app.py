"""The application factory: `create_app(config) -> Starlette`.

Everything an application needs (the SPARQL worker pool, the JWT replay cache, the feedback
file lock, the pipeline's concurrency limit) belongs to the instance that `create_app`
returns; nothing is kept in module globals, so several apps can run in one process (tests).
The worker pool is started by the application's lifespan (start-up) and stopped at shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from her2kg.resources import queries_dir
from her2kg.server.access_log import AccessLogMiddleware
from her2kg.server.cds_hooks import CdsHooksEndpoints
from her2kg.server.config import ServerConfig
from her2kg.server.dataset import ServedData, build_served_data
from her2kg.server.feedback import FeedbackLog
from her2kg.server.html_page import load_examples, render_page
from her2kg.server.openapi import openapi_document
from her2kg.server.pipeline import PipelineRunner
from her2kg.server.recommend_api import RecommendEndpoint
from her2kg.server.security import TokenVerifier
from her2kg.server.sparql import SparqlEndpoint
from her2kg.server.sparql_pool import QueryPool

log = logging.getLogger("her2kg.server")


def create_app(config: ServerConfig, *, served: ServedData | None = None) -> Starlette:
    """Build the application. `served` replaces the start-up dataset build (for tests)."""
    try:
        examples = load_examples(queries_dir() / "cq")
    except FileNotFoundError:
        examples = ()
    page = render_page(examples)
    sparql = SparqlEndpoint(config.sparql, page)
    pipeline = PipelineRunner(
        config.recommend.concurrency, timeout=config.recommend.timeout_seconds, max_queue=config.recommend.max_queue
    )
    recommend = RecommendEndpoint(
        pipeline, max_body_bytes=config.recommend.max_body_bytes, body_timeout=config.body_timeout_seconds
    )
    cds = CdsHooksEndpoints(
        config.cdshooks,
        TokenVerifier(config.cdshooks),
        pipeline,
        FeedbackLog(config.feedback.file),
        max_body_bytes=config.recommend.max_body_bytes,
        as_of=config.as_of,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        data = served
        if data is None:
            as_of = config.as_of or date.today()
            data = await anyio.to_thread.run_sync(lambda: build_served_data(config.patients_dir, as_of=as_of))
        for note in data.notes:
            log.warning("%s", note)
        pool = QueryPool(
            data.nquads,
            size=config.sparql.workers,
            timeout=config.sparql.timeout_seconds,
            memory_bytes=config.sparql.max_memory_bytes,
        )
        await anyio.to_thread.run_sync(pool.start)
        await anyio.to_thread.run_sync(pipeline.start)
        app.state.pool = pool
        app.state.served = data
        sparql.pool = pool
        log.info(
            "SPARQL endpoint ready: %d triples, %d served patient file(s)%s, %d worker(s), %g s limit",
            pool.triples,
            len(data.patients),
            " (reasoned)" if data.reasoned else "",
            config.sparql.workers,
            config.sparql.timeout_seconds,
        )
        try:
            yield
        finally:
            sparql.pool = None
            await anyio.to_thread.run_sync(pool.close)
            await anyio.to_thread.run_sync(pipeline.close)

    async def index(request: Request) -> Response:
        return JSONResponse(
            {
                "name": "her2kg",
                "sparql": "/sparql",
                "recommend": "/recommend",
                "cds_services": "/cds-services",
                "openapi": "/openapi.json",
            }
        )

    async def health(request: Request) -> Response:
        ready = sparql.pool is not None
        body: dict[str, object] = {"status": "ok" if ready else "starting"}
        if ready and sparql.pool is not None:
            body["triples"] = sparql.pool.triples
        return JSONResponse(body, status_code=200 if ready else 503)

    document = openapi_document()

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/sparql", sparql.handle, methods=["GET", "POST"]),
        Route("/recommend", recommend.handle, methods=["POST"]),
        Route("/cds-services", cds.discovery, methods=["GET"]),
        Route("/cds-services/{service_id}", cds.call, methods=["POST"]),
        Route("/cds-services/{service_id}/feedback", cds.feedback_endpoint, methods=["POST"]),
    ]
    middleware = [Middleware(AccessLogMiddleware)]
    if config.cors.allow_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors.allow_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Accept", "Authorization", "Content-Type"],
                expose_headers=["X-Her2kg-Truncated", "X-SPARQL-MaxRows", "X-Her2kg-Max-Bytes", "Retry-After"],
                max_age=600,
            )
        )
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.config = config
    app.state.body_timeout = config.body_timeout_seconds
    app.state.sparql = sparql
    app.state.cds = cds
    return app

