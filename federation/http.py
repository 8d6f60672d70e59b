"""The one outbound HTTP wrapper for calls to peers: signing, timeouts, a response size cap, and the
difference between a transient failure (retry later) and a permanent one (the request itself is wrong)."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings

from core.logs import request_id as current_request_id
from federation.models import Peer
from federation.signatures import sign_request

_local = threading.local()
TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class PeerError(Exception):
    def __init__(self, message: str, *, transient: bool, status: int | None = None):
        super().__init__(message)
        self.transient = transient
        self.status = status


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = False  # never route node-to-node traffic through an ambient proxy
    return session


def peer_request(
    peer: Peer, method: str, path: str, *, params: dict | None = None, json_body: Any = None
) -> Any:
    """Send a signed request to `peer` and return its decoded JSON answer, or raise PeerError."""
    url = peer.base_url.rstrip("/") + path
    if params:
        url += "?" + urlencode(params)
    body = json.dumps(json_body, ensure_ascii=False).encode("utf-8") if json_body is not None else None
    headers = {"Accept": "application/json"}
    request_id = current_request_id.get()
    if request_id:  # not signed (docs/federation.md): a label for the logs, which a proxy may rewrite
        headers["X-Request-ID"] = request_id
    if body is not None:
        headers["Content-Type"] = "application/json"
    limit = settings.FEDERATION["MAX_RESPONSE_BYTES"]
    session = _session()
    try:
        # The signature covers the target URI exactly as it goes on the wire: requests re-quotes a URL as
        # it prepares it (an unreserved character written as %44 is sent as D), so it signs the prepared one.
        prepared = session.prepare_request(requests.Request(method, url, data=body, headers=headers))
        prepared.headers.update(sign_request(method, prepared.url, headers, body))
        with session.send(
            prepared,
            stream=True,
            allow_redirects=False,
            timeout=(3.0, settings.FEDERATION["HTTP_TIMEOUT"]),
        ) as response:
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise PeerError(
                        f"response larger than {limit} bytes", transient=False, status=response.status_code
                    )
                chunks.append(chunk)
            status = response.status_code
    except requests.RequestException as exc:
        raise PeerError(f"{exc.__class__.__name__}: {exc}", transient=True) from exc
    content = b"".join(chunks)
    if status >= 300:
        snippet = content[:300].decode("utf-8", "replace")
        raise PeerError(
            f"HTTP {status}: {snippet}",
            transient=status in TRANSIENT_STATUSES or status >= 500,
            status=status,
        )
    try:
        return json.loads(content, parse_constant=_no_constant) if content else None
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, NaN, or nested too deeply
        raise PeerError(f"answer is not JSON: {exc}", transient=False, status=status) from exc


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")
