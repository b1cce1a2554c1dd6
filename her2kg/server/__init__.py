"""The her2kg HTTP server: a SPARQL 1.1 endpoint over the knowledge base, the recommendation
API and a CDS Hooks 2.0.1 service (`her2kg serve`).

One module per concern:

- `config`: the TOML configuration (`ServerConfig`), read with the standard library only;
- `app`: `create_app(config) -> Starlette`, the application factory;
- `dataset`: the triples served (the knowledge base, plus reasoned patients);
- `sparql_guard`, `negotiation`, `sparql_worker`, `sparql_pool`, `sparql`,
  `service_description`: the SPARQL 1.1 Protocol;
- `pipeline`, `pipeline_worker`, `recommend_api`, `openapi`: `POST /recommend` (run in
  worker processes with a time limit and a queue bound) and its OpenAPI document;
- `security`, `cds_services`, `cds_cards`, `cds_hooks`, `feedback`: CDS Hooks;
- `html_page`: the query page for people; `httputil`, `access_log`: shared HTTP helpers;
- `http_protocol`: the uvicorn settings of `her2kg serve` (request-head deadline, limits).

Importing this package imports nothing outside the standard library; the server's extra
dependencies (starlette, uvicorn, pyjwt, cryptography) are imported by the modules that use
them, so a missing extra is reported by `her2kg serve` with the command that installs it.
"""

from __future__ import annotations

SERVER_EXTRA_HINT = "install the server extra: pip install 'her2kg[server]'"

__all__ = ["SERVER_EXTRA_HINT"]
