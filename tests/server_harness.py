"""Run a real her2kg server (uvicorn, loopback, free port) in a thread for the server tests."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from shared_files import SHARED_DIR

SHARED = SHARED_DIR
VIGNETTES = SHARED / "vignettes"
FHIR_EXAMPLES = SHARED / "fhir-examples"


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    app: Any

    def url(self, path: str) -> str:
        return self.base_url + path


def _wait_until_ready(url: str, deadline: float) -> None:
    """Wait until /healthz answers 200: the SPARQL workers are up, not only the HTTP server."""
    import urllib.error
    import urllib.request

    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not report ready in time")


@contextmanager
def running_server(config: Any, *, served: Any = None, start_timeout: float = 120.0) -> Iterator[RunningServer]:
    """Start `create_app(config)` on 127.0.0.1 and a free port; stop it on exit."""
    import uvicorn

    from her2kg.server.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(config, served=served)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="her2kg-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the test server did not start; run `her2kg serve` by hand to see why")
        time.sleep(0.05)
    _wait_until_ready(f"http://127.0.0.1:{port}/healthz", deadline)
    try:
        yield RunningServer(base_url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


# -- CDS Hooks helpers -----------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private_key: Any
    public_jwk: dict[str, Any]


def new_signing_key(alg: str, kid: str) -> SigningKey:
    """A fresh ES384 (P-384) or RS384 (RSA 2048) key pair with its public JWK."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    if alg == "ES384":
        private = ec.generate_private_key(ec.SECP384R1())
        jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return SigningKey(kid=kid, alg=alg, private_key=private, public_jwk=jwk)


def sign(key: SigningKey, *, iss: str, aud: str | list[str], lifetime: int = 300, **overrides: Any) -> str:
    """A CDS Hooks client JWT, shaped like the specification's example header and payload."""
    import jwt

    header = json.loads((FHIR_EXAMPLES / "cdshooks_jwt-header.json").read_text()) if FHIR_EXAMPLES.is_dir() else {}
    header.pop("jku", None)
    header.update({"alg": key.alg, "kid": key.kid, "typ": "JWT"})
    now = int(time.time())
    payload: dict[str, Any] = {"iss": iss, "aud": aud, "iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4())}
    payload.update(overrides)
    return jwt.encode(payload, key.private_key, algorithm=key.alg, headers=header)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


_PREFETCH_KEYS = {
    "Condition": "conditions",
    "Observation": "observations",
    "MedicationRequest": "medicationRequests",
    "MedicationStatement": "medicationStatements",
    "MedicationAdministration": "medicationAdministrations",
    "Procedure": "procedures",
}


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": f"urn:uuid:{r.get('id', uuid.uuid4())}", "resource": r, "search": {"mode": "match"}} for r in resources],
    }


def hook_data_from_bundle(bundle: dict[str, Any], *, drafts_in_context: bool) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """Split a patient Bundle into what an EHR sends: (patientId, prefetch, draftOrders bundle).

    With `drafts_in_context`, draft / proposed MedicationRequests become `context.draftOrders`
    (order-sign); otherwise they stay in the prefetched MedicationRequest search.
    """
    resources = [e["resource"] for e in bundle.get("entry", []) if isinstance(e, dict) and "resource" in e]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    groups: dict[str, list[dict[str, Any]]] = {key: [] for key in _PREFETCH_KEYS.values()}
    drafts: list[dict[str, Any]] = []
    for resource in resources:
        kind = resource["resourceType"]
        is_draft = kind == "MedicationRequest" and (resource.get("status") == "draft" or resource.get("intent") == "proposal")
        if drafts_in_context and is_draft:
            drafts.append(resource)
        elif kind in _PREFETCH_KEYS:
            groups[_PREFETCH_KEYS[kind]].append(resource)
    prefetch: dict[str, Any] = {"patient": patient}
    prefetch.update({key: _searchset(items) for key, items in groups.items()})
    draft_bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": d} for d in drafts]}
    return patient["id"], prefetch, draft_bundle if drafts_in_context else None
