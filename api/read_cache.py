"""The public read cache: anonymous GETs of product searches, product pages and the exchange directory are
rendered once per change of the node and served from the `reads` cache (Redis in production, each process's
memory on the embedded default), with an ETag and `304 Not Modified` for a matching `If-None-Match`.

* **Invalidated by the change log, not by time.** A page's key names the node's change generation
  (`federation.generation`: the sum of its log counters and cursors, which move in the transaction of every
  change published or applied here, and a counter for the few changes outside the log). A change makes every
  earlier key unreachable; `READ_CACHE_SECONDS` only bounds how long a stored page occupies the cache.
* **Anonymous only.** A caller who authenticated (an operator, a participant) reads past the cache and gets
  `Cache-Control: private`: what an operator sees (drafts, logins) is never stored, and nothing stored is ever
  served to a caller who authenticated. Every response of these views varies on `Authorization`.
* **Byte-identical.** What is stored is the response the view rendered for the first anonymous reader (the
  same renderer, serializer and pagination), and it is served as stored. The key holds the absolute URL
  (scheme, host, path and query: pagination links name them) and the negotiated media type.
* The ETag is a hash of the body, so it changes exactly when the content does; throttling, authentication and
  content negotiation run before the cache is read, as for any request.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from rest_framework.response import Response

from federation.generation import generation

MAX_BODY = 1 << 20  # a page larger than this (a 100-row page of long summaries is about 100 KB) is not kept


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _matches(request, etag: str) -> bool:
    wanted = request.META.get("HTTP_IF_NONE_MATCH")
    if not wanted:
        return False
    tags = parse_etags(wanted)
    return "*" in tags or etag in tags or etag in (t.removeprefix("W/") for t in tags)


class PublicReadCache:
    """A viewset mixin: its `read_cached_actions` are served from the read cache to anonymous callers."""

    read_cached_actions = ("list", "retrieve")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles, negotiation
        self._read_key = None
        self._read_hit = None
        if (
            settings.READ_CACHE_SECONDS
            and request.method in ("GET", "HEAD")
            and self.action in self.read_cached_actions
            and not request.user.is_authenticated
            and request.auth is None
        ):
            raw = f"{generation()}\n{request.accepted_media_type}\n{request.build_absolute_uri()}"
            digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
            self._read_key = f"{settings.NODE_CODE}:{digest}"
            self._read_hit = caches["reads"].get(self._read_key)
            if self._read_hit is not None:
                raise _Stored(self._read_hit)  # the handler does not run (handle_exception below)

    def handle_exception(self, exc):
        if isinstance(exc, _Stored):
            etag, content_type, body = exc.page
            return HttpResponse(body, content_type=content_type, headers={"ETag": etag})
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ("Authorization",))
        key = getattr(self, "_read_key", None)
        if key is None:
            user = getattr(request, "_user", None)
            if user is not None and user.is_authenticated:
                response["Cache-Control"] = "private"
            return response
        response["Cache-Control"] = "no-cache"  # may be stored anywhere, but asked again (a 304 if unchanged)
        if self._read_hit is None and isinstance(response, Response) and response.status_code == 200:
            body = response.render().content
            response["ETag"] = _etag(body)
            if len(body) <= MAX_BODY:
                page = (response["ETag"], response["Content-Type"], body)
                caches["reads"].set(key, page, settings.READ_CACHE_SECONDS)
        etag = response.get("ETag")
        if response.status_code == 200 and etag and _matches(request, etag):
            headers = {name: response[name] for name in ("ETag", "Vary", "Cache-Control")}
            return HttpResponseNotModified(headers=headers)
        return response


class _Stored(Exception):
    def __init__(self, page):
        super().__init__("stored page")
        self.page = page
