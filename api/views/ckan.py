"""CKAN's Action API, read actions only, at `/api/3/action/<name>` (and `/api/action/<name>`, where CKAN also
answers and where `ckanapi` calls): GET with query parameters or POST with a JSON object, answered in CKAN's
envelope `{"help", "success", "result"}` or CKAN's error shape (docs/interop.md). The actions themselves are
`interop.ckan_actions`. Not part of the OpenAPI document: this is CKAN's contract, not the project's. Calls
are limited per client address (`CKAN_THROTTLE_RATE`): over it, 429 in CKAN's error shape with Retry-After."""

from __future__ import annotations

import json
import math

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from api.throttling import ckan_throttled
from interop.ckan_actions import ACTIONS, CkanError


def _answer(status: int, name: str, **body) -> JsonResponse:
    help_url = f"{settings.NODE_PUBLIC_URL}/api/3/action/help_show?name={name}"
    response = JsonResponse(
        {"help": help_url, **body}, status=status, json_dumps_params={"ensure_ascii": False}
    )
    response["Access-Control-Allow-Origin"] = "*"  # a public catalog, read by portals in browsers (as CKAN)
    return response


def _bad_request(name: str, message: str, status: int = 400) -> JsonResponse:
    return _answer(
        status, name, success=False, error={"__type": "Bad Request", "message": f"Bad request - {message}"}
    )


def _params(request) -> dict | None:
    """The call's parameters: the query string of a GET, the JSON object (or form) of a POST."""
    if request.method == "GET":
        return request.GET.dict()
    if request.content_type == "application/x-www-form-urlencoded" or request.content_type.startswith(
        "multipart/"
    ):
        return request.POST.dict()
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _throttled(name: str, wait: float) -> JsonResponse:
    """429 in CKAN's error shape, with Retry-After (whole seconds, rounded up)."""
    seconds = math.ceil(wait)
    response = _answer(
        429,
        name,
        success=False,
        error={
            "__type": "Rate Limit Error",
            "message": f"Rate limit exceeded: at most {settings.CKAN_THROTTLE_RATE} calls from one address; "
            f"retry in {seconds} s",
            "retry_after": seconds,
        },
    )
    response["Retry-After"] = str(seconds)
    return response


@csrf_exempt
def ckan_action(request, name: str):
    wait = ckan_throttled(request)  # every call counts, a refused or unknown one too
    if wait is not None:
        return _throttled(name, wait)
    if name not in ACTIONS:
        return _bad_request(name, f"Action name not known: {name}")
    if request.method not in ("GET", "POST"):
        response = _bad_request(name, f"Method not allowed: {request.method}", 405)
        response["Allow"] = "GET, POST"
        return response
    params = _params(request)
    if params is None:
        return _bad_request(name, "JSON Error: the body must be a JSON object")
    try:
        result = ACTIONS[name](params)
    except CkanError as error:
        return _answer(error.status, name, success=False, error=error.as_dict())
    return _answer(200, name, success=True, result=result)
