"""Every write to a participant or an evaluation goes through these functions: one transaction each, who may
do it checked first, the rules of the standard applied, the version raised and the change published."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from accounts.models import RefreshToken, User
from core.exceptions import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from exchanges.models import Exchange
from federation.outbox import publish
from participants import tokens
from participants.models import (
    Evaluation,
    EvaluationStatus,
    Participant,
    ParticipantPrivate,
    ParticipantStatus,
    StatusChange,
)
from participants.principal import ParticipantPrincipal
from participants.replication import evaluation_change, participants_lock, participants_publish
from participants.selectors import participant_get, standing_for_token, winner_pick
from standards import participant_vocabularies as vocab
from standards.participant import MAX_REASON, profile_errors
from standards.uscc import uscc_parse

# Verification lifecycle at the home exchange: pending → verified ⇄ suspended; any → revoked (final).
TRANSITIONS: dict[str, frozenset[str]] = {
    ParticipantStatus.PENDING: frozenset({ParticipantStatus.VERIFIED, ParticipantStatus.REVOKED}),
    ParticipantStatus.VERIFIED: frozenset({ParticipantStatus.SUSPENDED, ParticipantStatus.REVOKED}),
    ParticipantStatus.SUSPENDED: frozenset({ParticipantStatus.VERIFIED, ParticipantStatus.REVOKED}),
    ParticipantStatus.REVOKED: frozenset(),
}
MAX_EVALUATION_YEARS = 5


def _err(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


# --- Who may do what ----------------------------------------------------------------------------------------
def is_home_operator(actor: Any) -> bool:
    """An operator of this node's exchange, or the node's admin (None: the node itself, from a command)."""
    if actor is None:
        return True
    if not isinstance(actor, User) or not actor.is_active:
        return False
    return actor.is_superuser or actor.role == User.Role.ADMIN or actor.exchange_id == settings.NODE_CODE


def _require_home(participant: Participant) -> None:
    if participant.home_id != settings.NODE_CODE:
        raise Forbidden(
            message=f"该市场主体登记于 {participant.home_id}，只能在其登记交易所的节点修改",
            message_en=f"This participant is registered at {participant.home_id}; only that node changes it",
            code="not_owner",
            extra={"home_exchange": participant.home_id},
        )


def participant_can_manage(actor: Any, participant: Participant) -> bool:
    """Its home exchange's operators, and the participant's own users (with a token from any node)."""
    if is_home_operator(actor):
        return True
    return isinstance(actor, ParticipantPrincipal) and actor.participant_id == participant.participant_id


def can_read_private(actor: Any, participant: Participant) -> bool:
    return (
        participant.home_id == settings.NODE_CODE
        and actor is not None
        and actor.is_authenticated
        and (participant_can_manage(actor, participant))
    )


# --- Private fields (home node only) ------------------------------------------------------------------------
def _private_clean(data: dict) -> tuple[dict, list[FieldError]]:
    errors: list[FieldError] = []
    clean: dict = {}
    if "contacts" in data:
        contacts = data["contacts"]
        ok = isinstance(contacts, list) and len(contacts) <= 10
        ok = ok and all(
            isinstance(c, dict)
            and set(c) <= {"name", "title", "phone", "email"}
            and isinstance(c.get("name"), str)
            and 0 < len(c["name"]) <= 60
            and all(isinstance(v, str) and len(v) <= 120 for v in c.values())
            for c in contacts
        )
        if not ok:
            errors.append(
                _err(
                    "contacts",
                    "format",
                    "联系人为最多10个对象，每个含 name（必填）、title、phone、email",
                    "contacts is a list of at most 10 objects with name (required), title, phone, email",
                )
            )
        else:
            clean["contacts"] = contacts
    if "phone" in data:
        phone = data["phone"]
        if (
            not isinstance(phone, str)
            or len(phone) > 32
            or (phone and not all(c in "0123456789+-() " for c in phone))
        ):
            errors.append(
                _err("phone", "format", "电话号码格式无效", "phone may hold digits, spaces and + - ( )")
            )
        else:
            clean["phone"] = phone
    if "email" in data:
        email = data["email"]
        try:
            if not isinstance(email, str):
                raise DjangoValidationError("type")
            if email:
                validate_email(email)
            clean["email"] = email
        except DjangoValidationError:
            errors.append(_err("email", "format", "电子邮箱格式无效", "email is not a valid address"))
    if "documents" in data:
        documents = data["documents"]
        ok = isinstance(documents, list) and len(documents) <= 20
        ok = ok and all(
            isinstance(d, dict)
            and set(d) <= {"title", "ref"}
            and all(isinstance(d.get(k), str) and 0 < len(d[k]) <= 200 for k in ("title", "ref"))
            for d in documents
        )
        if not ok:
            errors.append(
                _err(
                    "documents",
                    "format",
                    "证明材料为最多20个对象，每个含 title 与 ref",
                    "documents is a list of at most 20 objects with title and ref",
                )
            )
        else:
            clean["documents"] = documents
    return clean, errors


PRIVATE_FIELDS = ("contacts", "phone", "email", "documents")
# What verification vouches for: a participant changes its description and private fields itself; these
# only through its home exchange's operators (so a participant cannot give itself a role or a service).
VETTED_FIELDS = frozenset({"legal_name", "entity_type", "roles", "business_categories", "services"})


# --- Registration -------------------------------------------------------------------------------------------
def _duplicate(existing: Participant) -> Conflict:
    home = existing.home
    return Conflict(
        message=f"统一社会信用代码 {existing.participant_id} 已在 {home.pk}（{home.name_zh}）登记",
        message_en=f"USCC {existing.participant_id} is already registered at {home.pk} ({home.name_en})",
        code="duplicate_registration",
        extra={"participant_id": existing.participant_id, "home_exchange": home.pk},
    )


def _account_clean(account: Any) -> tuple[str, str]:
    if (
        not isinstance(account, dict)
        or not isinstance(account.get("username"), str)
        or not isinstance(account.get("password"), str)
    ):
        raise ValidationFailed(
            [
                _err(
                    "account",
                    "format",
                    "账户须含 username 与 password",
                    "account needs username and password",
                )
            ]
        )
    username, password = account["username"].strip(), account["password"]
    if not username or len(username) > 150 or not all(c.isalnum() or c in "@.+-_" for c in username):
        raise ValidationFailed(
            [
                _err(
                    "account.username",
                    "format",
                    "用户名格式无效",
                    "username may hold letters, digits and @.+-_",
                )
            ]
        )
    if User.objects.filter(username=username).exists():
        raise Conflict(message="用户名已被占用", message_en="This username is taken", code="username_taken")
    messages = {}
    for language in ("zh-hans", "en"):  # Django formats the messages in the active language
        with translation.override(language):
            try:
                validate_password(password, User(username=username))
            except DjangoValidationError as exc:
                messages[language] = " ".join(exc.messages)
    if messages:
        raise ValidationFailed([_err("account.password", "weak", messages["zh-hans"], messages["en"])])
    return username, password


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
    private_clean, private_errors = _private_clean(private or {})
    if errors or private_errors:
        raise ValidationFailed(errors + private_errors)
    registrations = list(Participant.objects.select_related("home").filter(participant_id=parsed.code))
    live = [r for r in registrations if r.status != ParticipantStatus.REVOKED]
    if live:
        raise _duplicate(winner_pick(live))
    revoked_here = [r for r in registrations if r.home_id == settings.NODE_CODE]
    if revoked_here:  # a revoked registration frees the USCC elsewhere; here it is reinstated by an operator
        raise Conflict(
            message="该统一社会信用代码在本交易所的登记已被撤销",
            message_en="This USCC's registration here was revoked; it cannot be registered here again",
            code="revoked_registration",
            extra={"participant_id": parsed.code, "home_exchange": settings.NODE_CODE},
        )
    credentials = _account_clean(account) if account is not None else None
    now = timezone.now()
    participant = Participant(
        participant_id=parsed.code,
        home_id=settings.NODE_CODE,
        is_home=True,
        region=parsed.region,
        status=status,
        registered_at=now,
        verified_at=now if status == ParticipantStatus.VERIFIED else None,
        **clean,
    )
    try:
        with transaction.atomic():
            participant.save()
    except IntegrityError:
        raise _duplicate(
            Participant.objects.select_related("home").get(
                participant_id=parsed.code, home_id=settings.NODE_CODE
            )
        ) from None
    ParticipantPrivate.objects.create(participant=participant, **private_clean)
    StatusChange.objects.create(
        participant=participant, from_status="", to_status=status, reason="registered", actor=actor
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
    _require_home(participant)
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
    private_clean, private_errors = _private_clean({k: v for k, v in changes.items() if k in PRIVATE_FIELDS})
    if errors or private_errors:
        raise ValidationFailed(errors + private_errors)
    if private_clean:
        ParticipantPrivate.objects.update_or_create(participant=participant, defaults=private_clean)
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
    _require_home(participant)
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
    participants_publish([participant])
    return participant


# --- Accounts and tokens ------------------------------------------------------------------------------------
def _refresh_issue(user: User) -> str:
    raw = "dxr_refresh_" + secrets.token_urlsafe(32)
    RefreshToken.objects.create(
        user=user,
        key_hash=hashlib.sha256(raw.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(seconds=settings.PARTICIPANT_REFRESH_TTL),
    )
    return raw


def _tokens_for(user: User) -> dict:
    participant = Participant.objects.filter(
        participant_id=user.participant_id, home_id=settings.NODE_CODE
    ).first()
    if (
        participant is None
        or standing_for_token(participant_id=participant.participant_id, home=settings.NODE_CODE) is None
    ):
        raise _login_refused("the participant is not in good standing (suspended, revoked or a duplicate)")
    access, expires_at = tokens.access_token_issue(
        username=user.username, participant_id=participant.participant_id, roles=list(participant.roles)
    )
    return {
        "access": access,
        "token_type": "Bearer",
        "expires_at": expires_at,
        "expires_in": settings.PARTICIPANT_ACCESS_TTL,
        "refresh": _refresh_issue(user),
        "participant_id": participant.participant_id,
        "home_exchange": settings.NODE_CODE,
    }


class LoginRefused(Forbidden):
    status = 401


def _login_refused(en: str) -> LoginRefused:
    return LoginRefused(message="登录失败 / " + en, message_en=en, code="authentication_failed")


@transaction.atomic
def login(*, username: str, password: str) -> dict:
    """A participant user logs in at its home node: an access token every node accepts, and a refresh."""
    user = authenticate(username=username, password=password)
    if user is None or user.role != User.Role.PARTICIPANT or not user.is_active:
        raise _login_refused("wrong username or password, or not a participant user of this node")
    return _tokens_for(user)


@transaction.atomic
def refresh(*, raw: str) -> dict:
    """Exchange a refresh token (used once: it is rotated) for new tokens."""
    digest = hashlib.sha256(raw.encode()).hexdigest()
    token = RefreshToken.objects.select_for_update().select_related("user").filter(key_hash=digest).first()
    if (
        token is None
        or token.used_at is not None
        or token.expires_at <= timezone.now()
        or not token.user.is_active
    ):
        raise _login_refused("refresh token unknown, already used or expired")
    token.used_at = timezone.now()
    token.save(update_fields=["used_at"])
    return _tokens_for(token.user)


# --- Evaluations --------------------------------------------------------------------------------------------
def _issuer(actor: Any, dimension: str, subject: str) -> tuple[str, str, str]:
    """(issuer_type, issuer_id, issuer_name) for who may issue an evaluation of `dimension`; else 403."""
    if isinstance(actor, User) and is_home_operator(actor):
        exchange = Exchange.objects.get(pk=settings.NODE_CODE)
        return Evaluation.IssuerType.EXCHANGE, exchange.pk, exchange.name_zh
    if isinstance(actor, ParticipantPrincipal):
        if actor.participant_id == subject:
            raise Forbidden(
                message="不能评价自己",
                message_en="A participant cannot evaluate itself",
                code="self_evaluation",
            )
        if actor.status != ParticipantStatus.VERIFIED or not actor.has_role("service_provider"):
            raise Forbidden(
                message="只有已核验的第三方专业服务机构可以出具评估评价",
                message_en="Only a verified third-party service provider issues evaluations",
                code="issuer_role",
            )
        allowed = vocab.DIMENSION_SERVICES[dimension]
        if not allowed & set(actor.services):
            raise Forbidden(
                message=f"出具“{dimension}”评价须具备以下服务之一：{', '.join(sorted(allowed))}",
                message_en=f"A {dimension} evaluation needs one of the services {sorted(allowed)}",
                code="issuer_service",
                extra={"required_services": sorted(allowed)},
            )
        return Evaluation.IssuerType.PARTICIPANT, actor.participant_id, actor.legal_name
    raise Forbidden(
        message="只有交易所运营人员或第三方专业服务机构可以出具评估评价",
        message_en="Only exchange operators and third-party service providers issue evaluations",
        code="issuer_role",
    )


@transaction.atomic
def evaluation_issue(*, actor: Any, data: dict) -> Evaluation:
    dimension = data["dimension"]
    if not isinstance(dimension, str) or dimension not in vocab.codes(vocab.DIMENSION):
        raise ValidationFailed(
            [_err("dimension", "invalid_choice", "未知的评价维度", "Unknown dimension; see the vocabulary")]
        )
    subject = str(data["subject"]).upper()
    issuer_type, issuer_id, issuer_name = _issuer(actor, dimension, subject)
    if participant_get(subject) is None:
        raise NotFound(
            message=f"本节点不知道市场主体 {subject}",
            message_en=f"No participant {subject} is known at this node",
            code="unknown_participant",
        )
    valid_from: date = data["valid_from"]
    valid_until: date = data["valid_until"]
    errors = []
    if valid_until < valid_from:
        errors.append(_err("valid_until", "order", "有效期结束早于开始", "valid_until is before valid_from"))
    elif valid_until < timezone.localdate():
        errors.append(_err("valid_until", "past", "有效期已结束", "valid_until is in the past"))
    elif (valid_until - valid_from).days > 366 * MAX_EVALUATION_YEARS:
        errors.append(
            _err(
                "valid_until",
                "too_long",
                f"有效期最长 {MAX_EVALUATION_YEARS} 年",
                f"At most {MAX_EVALUATION_YEARS} years",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    evaluation = Evaluation.objects.create(
        gid=f"{settings.NODE_CODE}-{uuid.uuid4().hex}",
        origin=settings.NODE_CODE,
        subject_id=subject,
        dimension=dimension,
        score=data["score"],
        grade=vocab.grade_for(data["score"]),
        valid_from=valid_from,
        valid_until=valid_until,
        summary=data["summary"],
        evidence_ref=data.get("evidence_ref", ""),
        issuer_type=issuer_type,
        issuer_id=issuer_id,
        issuer_name=issuer_name,
        issued_at=timezone.now(),
    )
    publish([evaluation_change(evaluation)])
    return evaluation


@transaction.atomic
def evaluation_revoke(*, actor: Any, evaluation: Evaluation, reason: str) -> Evaluation:
    if evaluation.origin != settings.NODE_CODE:
        raise Forbidden(
            message=f"该评价由 {evaluation.origin} 出具，只能在该节点撤销",
            message_en=f"This evaluation was issued at {evaluation.origin}; only that node revokes it",
            code="not_owner",
        )
    # The issuer, or an operator of the exchange where it was issued (which answers for what its node
    # publishes, e.g. when a service provider is suspended and cannot log in to revoke its evaluations).
    allowed = (isinstance(actor, User) and is_home_operator(actor)) or (
        isinstance(actor, ParticipantPrincipal) and actor.participant_id == evaluation.issuer_id
    )
    if not allowed:
        raise Forbidden(
            message="只有出具方可以撤销",
            message_en="Only the issuer revokes an evaluation",
            code="not_issuer",
        )
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValidationFailed(
            [
                _err(
                    "reason",
                    "required",
                    "撤销须说明理由（最多500字）",
                    "A revocation needs a reason (at most 500 characters)",
                )
            ]
        )
    evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    if evaluation.status == EvaluationStatus.REVOKED:
        raise Conflict(
            message="该评价已撤销", message_en="The evaluation is already revoked", code="already_revoked"
        )
    evaluation.status, evaluation.revoked_reason = EvaluationStatus.REVOKED, reason
    evaluation.version += 1
    evaluation.save()
    publish([evaluation_change(evaluation)])
    return evaluation


@transaction.atomic
def providers_register_verified(
    providers: list[tuple[str, str]], *, reason: str = "registered in bulk"
) -> int:
    """Register, verified, the data merchants in `providers` ((uscc, legal name) pairs) that no exchange has
    registered yet, at this node, in one transaction and one log append: for seeding a node and for
    benchmarks. Returns how many were registered."""
    now = timezone.now()
    wanted: dict[str, str] = {}
    for raw, name in providers:
        wanted.setdefault(uscc_parse(raw).code, name)
    known: set[str] = set()
    codes = list(wanted)
    for start in range(0, len(codes), 1000):
        known.update(
            Participant.objects.filter(participant_id__in=codes[start : start + 1000]).values_list(
                "participant_id", flat=True
            )
        )
    participants_lock(codes)
    fresh = [(code, name) for code, name in wanted.items() if code not in known]
    for start in range(0, len(fresh), 1000):
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
            for code, name in fresh[start : start + 1000]
        ]
        Participant.objects.bulk_create(rows)
        rows = list(
            Participant.objects.filter(
                home_id=settings.NODE_CODE, participant_id__in=[r.participant_id for r in rows]
            )
        )
        ParticipantPrivate.objects.bulk_create([ParticipantPrivate(participant=r) for r in rows])
        participants_publish(rows)
    return len(fresh)


@transaction.atomic
def account_create(*, actor: Any, participant: Participant, account: dict) -> User:
    """A login for a participant registered at this node (e.g. one an operator registered without one)."""
    _require_home(participant)
    if not is_home_operator(actor):
        raise Forbidden(
            message=f"只有 {settings.NODE_CODE} 的运营人员可以为市场主体开设账户",
            message_en=f"Only operators of {settings.NODE_CODE} open accounts for its participants",
            code="not_owner",
        )
    username, password = _account_clean(account)
    user = User(username=username, role=User.Role.PARTICIPANT, participant_id=participant.participant_id)
    user.set_password(password)
    user.save()
    return user
