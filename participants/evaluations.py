"""Evaluations (评估评价) issued at this node about participants, and their revocation by their issuer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.exceptions import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from exchanges.models import Exchange
from participants.models import Evaluation, EvaluationStatus, ParticipantStatus
from participants.permissions import is_home_operator
from participants.principal import ParticipantPrincipal
from participants.replicas import EVALUATION
from participants.selectors import participant_get
from standards import participant_vocabularies as vocab
from standards.evaluation import evaluation_clean
from standards.participant import MAX_REASON

MAX_EVALUATION_YEARS = 5


def _err(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


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
    """An operator of this node's exchange, or a verified service provider offering a service the dimension
    needs, evaluates a participant known here."""
    clean = evaluation_clean(data, valid_from=data["valid_from"], valid_until=data["valid_until"])
    subject = str(data["subject"]).upper()
    issuer_type, issuer_id, issuer_name = _issuer(actor, clean["dimension"], subject)
    if participant_get(subject) is None:
        raise NotFound(
            message=f"本节点不知道市场主体 {subject}",
            message_en=f"No participant {subject} is known at this node",
            code="unknown_participant",
        )
    # This node's rules for what it issues now (a replica of an older evaluation may have ended since).
    if clean["valid_until"] < timezone.localdate():
        raise ValidationFailed([_err("valid_until", "past", "有效期已结束", "valid_until is in the past")])
    if (clean["valid_until"] - clean["valid_from"]).days > 366 * MAX_EVALUATION_YEARS:
        raise ValidationFailed(
            [
                _err(
                    "valid_until",
                    "too_long",
                    f"有效期最长 {MAX_EVALUATION_YEARS} 年",
                    f"At most {MAX_EVALUATION_YEARS} years",
                )
            ]
        )
    evaluation = Evaluation.objects.create(
        gid=f"{settings.NODE_CODE}-{uuid.uuid4().hex}",
        origin=settings.NODE_CODE,
        subject_id=subject,
        issuer_type=issuer_type,
        issuer_id=issuer_id,
        issuer_name=issuer_name,
        issued_at=timezone.now(),
        **clean,
    )
    EVALUATION.publish([evaluation])
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
            message="只有出具方或出具节点所属交易所的运营人员可以撤销",
            message_en=(
                "Only the issuer, or an operator of the exchange whose node issued it, revokes an evaluation"
            ),
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
    EVALUATION.publish([evaluation])
    return evaluation


@transaction.atomic
def evaluation_issue_by_counterparty(
    *, actor: ParticipantPrincipal, subject: str, data: dict, evidence_ref: str
) -> Evaluation:
    """A party of a deal evaluates its counter-party (dimension `service`, `compliance`, `data_quality`…),
    valid for a year from today, with the deal as evidence. The caller (deals.closing) has checked that
    `actor` and `subject` are the parties of a settled deal; this node is the actor's home."""
    today = timezone.localdate()
    clean = evaluation_clean(
        {**data, "evidence_ref": evidence_ref}, valid_from=today, valid_until=today + dt.timedelta(days=365)
    )
    evaluation = Evaluation.objects.create(
        gid=f"{settings.NODE_CODE}-{uuid.uuid4().hex}",
        origin=settings.NODE_CODE,
        subject_id=subject,
        issuer_type=Evaluation.IssuerType.PARTICIPANT,
        issuer_id=actor.participant_id,
        issuer_name=actor.legal_name,
        issued_at=timezone.now(),
        **clean,
    )
    EVALUATION.publish([evaluation])
    return evaluation
