"""Every write to a participant or an evaluation goes through these functions: one transaction each, who may
do it checked first, the rules of the standard applied, the version raised and the change published."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.exceptions import Conflict, FieldError, Forbidden, ValidationFailed
from core.statistics import analyze_stale
from federation.models import Entry
from federation.selectors import origins_known
from participants.identity import participants_publish
from participants.logins import account_clean, sessions_end
from participants.models import (
    Participant,
    ParticipantPrivate,
    ParticipantRecognition,
    ParticipantStatus,
    StatusChange,
)
from participants.permissions import is_home_operator, participant_can_manage, require_home
from participants.private_fields import private_fields_clean
from participants.replicas import participants_lock
from participants.selectors import standing_pick
from standards.participant import MAX_REASON, profile_errors
from standards.uscc import uscc_parse

# Verification lifecycle at the home exchange: pending → verified ⇄ suspended; any → revoked (final).
TRANSITIONS: dict[str, frozenset[str]] = {
    ParticipantStatus.PENDING: frozenset({ParticipantStatus.VERIFIED, ParticipantStatus.REVOKED}),
    ParticipantStatus.VERIFIED: frozenset({ParticipantStatus.SUSPENDED, ParticipantStatus.REVOKED}),
    ParticipantStatus.SUSPENDED: frozenset({ParticipantStatus.VERIFIED, ParticipantStatus.REVOKED}),
    ParticipantStatus.REVOKED: frozenset(),
}


def _err(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


PRIVATE_FIELDS = ("contacts", "phone", "email", "documents")
# What verification vouches for: a participant changes its description and private fields itself; these
# only through its home exchange's operators (so a participant cannot give itself a role or a service).
VETTED_FIELDS = frozenset({"legal_name", "entity_type", "roles", "business_categories", "services"})


def _duplicate(existing: Participant) -> Conflict:
    home = existing.home
    return Conflict(
        message=f"统一社会信用代码 {existing.participant_id} 已在 {home.pk}（{home.name_zh}）登记",
        message_en=f"USCC {existing.participant_id} is already registered at {home.pk} ({home.name_en})",
        code="duplicate_registration",
        extra={"participant_id": existing.participant_id, "home_exchange": home.pk},
    )


def _registration_slot(participant_id: str) -> Participant | None:
    """Whether this USCC may be registered here. Not if a registration of it is in use — verified or
    suspended at any exchange, or live at this one: 409 naming the exchange. A pending registration at another
    exchange does not block it (the one verified first stands: a squat cannot lock a company out), nor does a
    revoked one (a revocation frees the USCC everywhere, at its own exchange too), nor one whose exchange is
    no longer a peer of this node. Returns this exchange's revoked registration of it, which a new
    registration takes over."""
    rows = list(Participant.objects.select_related("home").filter(participant_id=participant_id))
    trusted = {settings.NODE_CODE, *origins_known()}
    in_use = [
        r
        for r in rows
        if r.home_id in trusted
        and (
            r.status in (ParticipantStatus.VERIFIED, ParticipantStatus.SUSPENDED)
            or (r.home_id == settings.NODE_CODE and r.status != ParticipantStatus.REVOKED)
        )
    ]
    if in_use:
        raise _duplicate(standing_pick(in_use))
    return next((r for r in rows if r.home_id == settings.NODE_CODE), None)


def _registration_write(parsed, clean: dict, *, status: str, revoked: Participant | None) -> Participant:
    """A new registration at this exchange, or this exchange's revoked one of the USCC taken over by it (one
    row per USCC and home: a new version of it, from a new registration time)."""
    now = timezone.now()
    fields = {
        "region": parsed.region,
        "status": status,
        "status_reason": "",
        "registered_at": now,
        "first_seen_at": now,
        "verified_at": now if status == ParticipantStatus.VERIFIED else None,
        **clean,
    }
    if revoked is not None:
        for name, value in {**fields, "version": revoked.version + 1, "standing_since": None}.items():
            setattr(revoked, name, value)
        revoked.save()
        return revoked
    participant = Participant(participant_id=parsed.code, home_id=settings.NODE_CODE, is_home=True, **fields)
    try:
        with transaction.atomic():
            participant.save()
    except IntegrityError:
        raise _duplicate(
            Participant.objects.select_related("home").get(
                participant_id=parsed.code, home_id=settings.NODE_CODE
            )
        ) from None
    return participant


@transaction.atomic
def participant_register(
    *,
    actor: Any,
    uscc: Any,
    profile: dict,
    private: dict | None = None,
    account: dict | None = None,
    status: str = ParticipantStatus.PENDING,
) -> Participant:
    """Register a participant at this node's exchange (its home). An operator registers on a company's behalf;
    a company registers itself (anonymous) with an account to log in with. It starts pending verification."""
    self_service = actor is not None and not getattr(actor, "is_authenticated", False)
    if self_service:  # an anonymous request (actor None is the node itself, e.g. a management command)
        actor = None
        if account is None:
            raise ValidationFailed(
                [
                    _err(
                        "account",
                        "required",
                        "自助登记须创建登录账户",
                        "A self-registration creates a login account",
                    )
                ]
            )
        status = ParticipantStatus.PENDING
    elif not is_home_operator(actor):
        raise Forbidden(
            message=f"只有 {settings.NODE_CODE} 的运营人员可以代为登记",
            message_en=f"Only operators of {settings.NODE_CODE} register participants on their behalf",
            code="not_owner",
        )
    parsed = uscc_parse(uscc)
    participants_lock([parsed.code])  # a peer's registration of the same company may be applied meanwhile
    clean, errors = profile_errors(profile)
    private, private_errors = private_fields_clean(private or {})
    if errors or private_errors:
        raise ValidationFailed(errors + private_errors)
    revoked = _registration_slot(parsed.code)
    credentials = account_clean(account) if account is not None else None
    participant = _registration_write(parsed, clean, status=status, revoked=revoked)
    # A registration taken over starts with none of the revoked one's private fields.
    blank = {"contacts": [], "phone": "", "email": "", "documents": []}
    ParticipantPrivate.objects.update_or_create(participant=participant, defaults={**blank, **private})
    StatusChange.objects.create(
        participant=participant,
        from_status=ParticipantStatus.REVOKED if revoked else "",
        to_status=status,
        reason="registered again after a revocation" if revoked else "registered",
        actor=actor,
    )
    if credentials is not None:
        user = User(
            username=credentials[0], role=User.Role.PARTICIPANT, participant_id=participant.participant_id
        )
        user.set_password(credentials[1])
        user.save()
    participants_publish([participant])
    return participant


def _locked(participant: Participant, expected_version: int | None) -> Participant:
    participants_lock([participant.participant_id])  # before the row lock, in the order applies take them
    locked = Participant.objects.select_for_update().select_related("home").get(pk=participant.pk)
    if expected_version is not None and expected_version != locked.version:
        raise Conflict(
            message=f"市场主体信息已被修改（当前版本 {locked.version}）",
            message_en=(
                f"The participant changed meanwhile (now version {locked.version}, "
                f"you sent {expected_version})"
            ),
            code="version_mismatch",
            extra={"current_version": locked.version},
        )
    return locked


@transaction.atomic
def participant_update(
    *, actor: Any, participant: Participant, changes: dict, expected_version: int | None = None
) -> Participant:
    """Change the profile and private fields (a partial update). Only at the home node, by its operators or
    the participant's own users."""
    require_home(participant)
    if not participant_can_manage(actor, participant):
        raise Forbidden(
            message="只有登记交易所的运营人员或该市场主体本身可以修改",
            message_en="Only the home exchange's operators or the participant itself may change it",
            code="not_owner",
        )
    vetted = sorted(k for k in changes if k in VETTED_FIELDS)
    if vetted and not is_home_operator(actor):
        raise Forbidden(
            message=f"以下字段经交易所核验，只能由运营人员修改：{', '.join(vetted)}",
            message_en=f"These fields are vetted by the exchange and changed by its operators only: {vetted}",
            code="operator_only",
            extra={"fields": vetted},
        )
    participant = _locked(participant, expected_version)
    if participant.status == ParticipantStatus.REVOKED:
        raise Conflict(
            message="已撤销的登记不能修改", message_en="A revoked registration cannot change", code="revoked"
        )
    current = {
        c: getattr(participant, c)
        for c in ("legal_name", "entity_type", "roles", "business_categories", "services", "description")
    }
    merged = {**current, **{k: v for k, v in changes.items() if k in current}}
    clean, errors = profile_errors(merged)
    private, private_errors = private_fields_clean({k: v for k, v in changes.items() if k in PRIVATE_FIELDS})
    if errors or private_errors:
        raise ValidationFailed(errors + private_errors)
    if private:
        ParticipantPrivate.objects.update_or_create(participant=participant, defaults=private)
    public_changed = any(getattr(participant, k) != v for k, v in clean.items())
    if public_changed:
        for k, v in clean.items():
            setattr(participant, k, v)
        participant.version += 1
        participant.save()
        participants_publish([participant])
    return participant


@transaction.atomic
def participant_set_status(
    *,
    actor: Any,
    participant: Participant,
    status: str,
    reason: str = "",
    expected_version: int | None = None,
) -> Participant:
    """Verification by an operator of the home exchange; each change replicates with its reason."""
    require_home(participant)
    if not is_home_operator(actor):
        raise Forbidden(
            message=f"只有 {settings.NODE_CODE} 的运营人员可以核验、暂停或撤销",
            message_en=f"Only operators of {settings.NODE_CODE} verify, suspend or revoke its participants",
            code="not_owner",
        )
    if status not in ParticipantStatus.values:
        raise ValidationFailed(
            [
                _err(
                    "status",
                    "invalid_choice",
                    "未知的状态",
                    f"status must be one of {ParticipantStatus.values}",
                )
            ]
        )
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            [_err("reason", "max_length", f"最多 {MAX_REASON} 字", f"At most {MAX_REASON} characters")]
        )
    if status in {ParticipantStatus.SUSPENDED, ParticipantStatus.REVOKED} and not reason:
        raise ValidationFailed(
            [_err("reason", "required", "暂停或撤销须说明理由", "Suspending or revoking needs a reason")]
        )
    participant = _locked(participant, expected_version)
    if status not in TRANSITIONS[participant.status]:
        raise Conflict(
            message=f"不能从 {participant.status} 变为 {status}",
            message_en=f"A {participant.status} registration cannot become {status}",
            code="invalid_transition",
            extra={"current_status": participant.status, "allowed": sorted(TRANSITIONS[participant.status])},
        )
    StatusChange.objects.create(
        participant=participant,
        from_status=participant.status,
        to_status=status,
        reason=reason,
        actor=actor if isinstance(actor, User) else None,
    )
    participant.status, participant.status_reason = status, reason
    if status == ParticipantStatus.VERIFIED:
        participant.verified_at = timezone.now()
    participant.version += 1
    participant.save()
    if status in (ParticipantStatus.SUSPENDED, ParticipantStatus.REVOKED):
        # Its users' sessions end now (refresh tokens, and access tokens at this node); a revoked
        # registration's users are closed for good: a later registration of the USCC gets its own.
        sessions_end(participant.participant_id, close_accounts=status == ParticipantStatus.REVOKED)
    participants_publish([participant])
    return participant


# Providers registered per transaction by `providers_register_verified` (one log append and one settling of
# identities each): bounded memory and lock count however many are given.
REGISTER_BATCH = 2000
REGISTER_TABLES = [
    model._meta.db_table for model in (Participant, ParticipantPrivate, ParticipantRecognition, Entry)
]


def providers_register_verified(
    providers: Iterable[tuple[str, str]], *, reason: str = "registered in bulk"
) -> int:
    """Register, verified, the data merchants in `providers` ((uscc, legal name) pairs) that no exchange has
    registered yet, at this node: for seeding a node and for benchmarks. Returns how many were registered.

    `providers` is read as a stream, REGISTER_BATCH distinct ids at a time, each batch in its own transaction
    with one log append (so 10^6 providers take neither 10^6 locks in one transaction nor a list of them in
    memory); the tables it writes are analysed as they grow (core/statistics.py)."""
    registered = 0
    wanted: dict[str, str] = {}
    for raw, name in providers:
        wanted.setdefault(uscc_parse(raw).code, name)
        if len(wanted) >= REGISTER_BATCH:
            registered += _providers_register_batch(wanted, reason=reason)
            wanted = {}
    if wanted:
        registered += _providers_register_batch(wanted, reason=reason)
    return registered


def _providers_register_batch(wanted: dict[str, str], *, reason: str) -> int:
    with transaction.atomic():
        codes = list(wanted)
        known = set(
            Participant.objects.filter(participant_id__any=codes).values_list("participant_id", flat=True)
        )
        fresh = [(code, name) for code, name in wanted.items() if code not in known]
        if not fresh:
            return 0
        participants_lock([code for code, _ in fresh])
        now = timezone.now()
        rows = [
            Participant(
                participant_id=code,
                home_id=settings.NODE_CODE,
                is_home=True,
                legal_name=name[:120],
                entity_type="enterprise",
                region=code[2:8],
                roles=["data_merchant"],
                business_categories=["data_products"],
                services=[],
                status=ParticipantStatus.VERIFIED,
                status_reason=reason,
                registered_at=now,
                verified_at=now,
            )
            for code, name in fresh
        ]
        Participant.objects.bulk_create(rows, batch_size=1000)
        rows = list(
            Participant.objects.filter(
                home_id=settings.NODE_CODE, participant_id__any=[r.participant_id for r in rows]
            )
        )
        ParticipantPrivate.objects.bulk_create(
            [ParticipantPrivate(participant=r) for r in rows], batch_size=1000
        )
        participants_publish(rows)
    analyze_stale(REGISTER_TABLES)
    return len(fresh)
