"""The OpenAPI schema as the API's contract (docs/api.md, *The schema is the contract*): drf-spectacular's
AutoSchema, told what it cannot see by itself.

* Request bodies of a `StrictSerializer` refuse unknown keys: their schemas say `additionalProperties: false`.
* `security` lists `{}` exactly when an anonymous caller may use the operation: a view whose code refuses
  anonymous callers says so with `signed_in` (True: every operation; or the names of its actions that do);
  a permission class with `anonymous_reads` lets anyone read.
* Every operation documents the errors that any request can meet before its view: 400 (a NUL character in
  the path or query, core.middleware.UnstorableTextMiddleware), 401 (an unknown or expired token, on every
  operation that reads tokens), 413 (core.middleware.BodySizeLimitMiddleware), 414 (a URL over
  MAX_REQUEST_URL_BYTES, core.middleware.UrlLengthLimitMiddleware) and 429 (where a rate limit applies).
* `descriptor` is the descriptor standard's JSON Schema (standards/descriptor_schema.py), rewritten from
  JSON Schema 2020-12 into OpenAPI 3.0's dialect.
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions

from api.serializers.base import ErrorSerializer, StrictSerializer
from standards.descriptor import descriptor_json_schema

EVERY_OPERATION = (400, 413, 414)
ERROR_DESCRIPTIONS = {
    400: "Invalid input: every broken rule is listed with its field path (also a NUL character in the path "
    "or the query)",
    401: "Missing, invalid or expired token",
    403: "Not allowed for this user or this record's owner",
    404: "No such record, or not visible to this user (lists: a page past the last)",
    409: "Conflicts with the record's state or version",
    413: "Request body too large",
    414: "URL (path and query) too long",
    415: "Content-Type is not application/json",
    429: "Rate limit exceeded",
}


class AutoSchema(openapi.AutoSchema):
    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False
        return schema

    def get_auth(self):
        auths = super().get_auth()
        schemes = [auth for auth in auths if auth]
        signed_in = getattr(self.view, "signed_in", ())
        if signed_in is True or getattr(self.view, "action", None) in signed_in:
            return schemes
        if len(schemes) < len(auths):
            return auths
        if self.method in permissions.SAFE_METHODS and all(
            getattr(p, "anonymous_reads", False) for p in self.view.get_permissions()
        ):
            return [*schemes, {}]
        return auths

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        codes = list(EVERY_OPERATION)
        if self.method == "GET" and self._is_list_view() and self._get_paginator():
            codes.append(404)  # a page past the last
        if self.view.get_authenticators():
            codes.append(401)
        if getattr(self.view, "get_throttles", None) and self.view.get_throttles():
            codes.append(429)
        for code in codes:
            if str(code) not in bodies:
                response = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
                bodies[str(code)] = self._get_response_for_code(response, str(code), direction=direction)
        return dict(sorted(bodies.items()))


def _openapi_30(node):
    """A JSON Schema 2020-12 node in OpenAPI 3.0's dialect: `const` as a one-value enum, a type list with
    "null" as `nullable`, no `$schema`/`$id`."""
    if isinstance(node, list):
        return [_openapi_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "if" in node:
        node = _conditional_30(node)
    out = {}
    for key, value in node.items():
        if key in {"$schema", "$id"} or (key == "required" and not value):  # 3.0: `required` non-empty
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            out["type"] = kinds[0]
            if "null" in value:
                out["nullable"] = True
        elif key == "properties":
            out[key] = {name: _openapi_30(sub) for name, sub in value.items()}
        else:
            out[key] = _openapi_30(value)
    return out


def _conditional_30(node: dict) -> dict:
    """`if`/`then`/`else` (not in OpenAPI 3.0) as what they mean: (if and then) or (not if and else)."""
    node = dict(node)
    condition, then, otherwise = node.pop("if"), node.pop("then", {}), node.pop("else", {})
    either = {"anyOf": [{"allOf": [condition, then]}, {"allOf": [{"not": condition}, otherwise]}]}
    node["allOf"] = [*node.get("allOf", []), either]
    return node


def descriptor_openapi_schema() -> dict:
    return _openapi_30(descriptor_json_schema())
