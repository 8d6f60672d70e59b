"""Notifications to participants registered at this node, in the API and by webhook.

A notification is created once per (participant, kind, demand, demand version[, response]) — the unique
constraint makes a repeated match or a task run twice harmless. Each one is delivered to the participant's
active webhooks as a POST signed with HMAC-SHA256 over the body (header `X-Registry-Signature:
sha256=<hex>`, with `X-Registry-Timestamp` inside the signed text), retried with exponential backoff and
jitter, every attempt logged on its delivery row.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from requests.adapters import HTTPAdapter

from core.jobs import LeasedJobs
from core.queue import enqueue_on_commit
from demands.models import Demand, DemandResponse, Notification, WebhookDelivery, WebhookSubscription
from participants.models import Participant

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
DELIVERY_LEASE = 60  # seconds
JOBS = LeasedJobs(
    WebhookDelivery, waiting=WebhookDelivery.State.PENDING, working=WebhookDelivery.State.SENDING
)
TIMEOUT = 5.0
# No proxies from the environment: the address checked is the address connected to (federation's session
# does the same). A delivery connects to the very address `url_check` vetted (`_post`), so a host whose DNS
# answer changes between the check and the connection (DNS rebinding) cannot redirect it to a private one.
_SESSION = requests.Session()
_SESSION.trust_env = False


class _PinnedTls(HTTPAdapter):
    """HTTPS to a vetted IP address, with the certificate checked for, and SNI sent as, the URL's host."""

    def __init__(self, hostname: str):
        self._hostname = hostname
        super().__init__()

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs.update(server_hostname=self._hostname, assert_hostname=self._hostname)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def _post(url: str, address: str | None, **kwargs) -> requests.Response:
    """POST to `url`, connecting to `address` (the vetted one) when given, not to a second DNS answer."""
    if address is None:  # private networks allowed for this subscription: resolved as usual
        return _SESSION.post(url, **kwargs)
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    session = requests.Session()
    session.trust_env = False
    if parts.scheme == "https":
        session.mount(f"https://{netloc}", _PinnedTls(parts.hostname))
    headers = {**kwargs.pop("headers", {}), "Host": parts.netloc.rsplit("@", 1)[-1]}
    if parts.username:
        kwargs["auth"] = (unquote(parts.username), unquote(parts.password or ""))
    with session:
        return session.post(
            urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), headers=headers, **kwargs
        )


def notify(*, participant_id: str, kind: str, demand: Demand, payload: dict, subject_gid: str = "") -> int:
    """Create the notification unless it exists; queue its webhook deliveries. Returns 1 if created."""
    return notify_about(
        participant_id=participant_id,
        kind=kind,
        record_gid=demand.gid,
        record_version=demand.version,
        payload=payload,
        subject_gid=subject_gid,
    )


def notify_about(
    *,
    participant_id: str,
    kind: str,
    record_gid: str,
    record_version: int,
    payload: dict,
    subject_gid: str = "",
) -> int:
    """`notify` for any record (a demand, a deal): once per (participant, kind, record, version, subject)."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                participant_id=participant_id,
                kind=kind,
                demand_gid=record_gid,
                demand_version=record_version,
                subject_gid=subject_gid,
                payload=payload,
            )
            now = timezone.now()
            WebhookDelivery.objects.bulk_create(
                WebhookDelivery(notification=notification, subscription=s, next_attempt_at=now)
                for s in WebhookSubscription.objects.filter(participant_id=participant_id, active=True)
            )
    except IntegrityError:
        return 0  # already notified of this version
    enqueue_on_commit("demands.tasks.deliver_webhooks")
    return 1


def responders_here(demand: Demand) -> list[str]:
    """Participants registered at this node that responded to `demand`."""
    responders = set(
        DemandResponse.objects.filter(demand_gid=demand.gid, responder_home=settings.NODE_CODE).values_list(
            "responder_id", flat=True
        )
    )
    return sorted(
        Participant.objects.filter(participant_id__in=responders, home_id=settings.NODE_CODE).values_list(
            "participant_id", flat=True
        )
    )


# --- Webhook URLs -------------------------------------------------------------------------------------------
class UnsafeUrl(ValueError):
    """A URL refused by the safety rule; `permanent` unless the host merely failed to resolve (retried)."""

    def __init__(self, message: str, *, permanent: bool = True):
        super().__init__(message)
        self.permanent = permanent


# RFC 6052's well-known NAT64 prefix carries an IPv4 address in its last 32 bits; RFC 8215's local-use prefix
# is never globally reachable (Python's `is_global` says so only from 3.12.4 on); IPv4-compatible addresses
# (RFC 4291, deprecated) are `::a.b.c.d`.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo (its
    server and its client)."""
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    found += address.teredo or ()
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a webhook may not connect to `address`, or None for a global unicast address. Python's `is_global`
    is not enough alone: it calls multicast global, and (on Python 3.11) it classifies an IPv6 address that
    embeds an IPv4 one by its IPv6 prefix, so `64:ff9b::127.0.0.1`, `2002:a00:1::` or `::ffff:100.100.100.200`
    (a cloud metadata service's shared address) pass it."""
    if address.is_multicast:
        return "a multicast address"
    if not address.is_global:
        return "a private, loopback or otherwise non-public address"
    if address.version == 6:
        if address in _NAT64_LOCAL:
            return "a local-use NAT64 address"
        for ipv4 in _embedded_ipv4(address):
            if ipv4.is_multicast or not ipv4.is_global:
                return f"an IPv6 address that embeds the non-public IPv4 address {ipv4}"
    return None


def url_check(url: str, *, allow_private: bool) -> str | None:
    """Refuse URLs that are not http(s), or whose host is (or resolves to) any address but a global unicast
    one (`address_refusal`), unless an operator allowed it for this subscription. Returns the vetted address
    to connect to (None when private networks are allowed): an IPv4-mapped address as its IPv4 address."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise UnsafeUrl("the URL's port is not a number from 0 to 65535") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeUrl("the URL must be http or https with a host")
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"the host {parts.hostname} does not resolve", permanent=False) from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise UnsafeUrl(f"the host {parts.hostname} resolves to {address}, {reason}")
    if not addresses:
        raise UnsafeUrl(f"the host {parts.hostname} does not resolve", permanent=False)
    first = addresses[0]
    return str(first.ipv4_mapped if first.version == 6 and first.ipv4_mapped else first)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _body(notification: Notification) -> bytes:
    return json.dumps(
        {
            "id": notification.pk,
            "node": settings.NODE_CODE,
            "participant": notification.participant_id,
            "kind": notification.kind,
            "demand": notification.demand_gid,
            "demand_version": notification.demand_version,
            "subject": notification.subject_gid or None,
            "payload": notification.payload,
            "created_at": notification.created_at.isoformat(),
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode("utf-8")


def deliveries_send(*, limit: int = 100) -> int:
    """Send due deliveries; returns how many were delivered."""
    due = list(
        WebhookDelivery.objects.select_related("notification", "subscription")
        .filter(JOBS.due())
        .order_by("next_attempt_at")[:limit]
    )
    delivered = 0
    for delivery in due:
        if not JOBS.claim(delivery.pk, lease=DELIVERY_LEASE):
            continue
        subscription = delivery.subscription
        body = _body(delivery.notification)
        timestamp = str(int(time.time()))
        status_code, error, permanent = None, "", False
        try:
            address = url_check(subscription.url, allow_private=subscription.allow_private_network)
            response = _post(
                subscription.url,
                address,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Registry-Event": delivery.notification.kind,
                    "X-Registry-Delivery": str(delivery.pk),
                    "X-Registry-Timestamp": timestamp,
                    "X-Registry-Signature": signature(subscription.secret, timestamp, body),
                },
                timeout=TIMEOUT,
                allow_redirects=False,
            )
            status_code = response.status_code
            ok = 200 <= status_code < 300
            if not ok:
                error = f"HTTP {status_code}"
        except UnsafeUrl as exc:
            ok, error, permanent = False, str(exc)[:1000], exc.permanent
        except requests.RequestException as exc:
            ok, error = False, str(exc)[:1000]
        attempts = delivery.attempts + 1
        if ok:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                state=WebhookDelivery.State.DELIVERED,
                attempts=attempts,
                last_status=status_code,
                last_error="",
                delivered_at=timezone.now(),
                lease_until=None,
            )
            delivered += 1
            continue
        JOBS.retry(
            delivery.pk,
            attempts=attempts,
            error=error,
            final=attempts >= MAX_ATTEMPTS or permanent,
            final_state=WebhookDelivery.State.FAILED,
            last_status=status_code,
        )
        logger.warning(
            "webhook delivery %s to %s failed (attempt %s): %s",
            delivery.pk,
            subscription.url,
            attempts,
            error,
        )
    return delivered
