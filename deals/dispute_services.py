"""Writes of deals' disputes (纠纷协调, docs/deals.md "Disputes"): filing, and every later step, each a record
of its own written once at the home node of whoever takes it — a party's at its home, the coordinating
exchange's (the product's home) and the co-coordinating exchange's (the buyer's home) at their nodes — after
the dispute standard (`standards.deal_disputes`) allows it in the state this node derives. A resolution
against a party is also an evaluation of it by the coordinating exchange, and a resolution of a rejected deal
its `outcome` step (deals.outcomes), in the same transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from deals.dispute_followups import disputes_followup
from deals.dispute_selectors import (
    deal_amount,
    deal_open_dispute,
    dispute_role_actor,
    dispute_role_origin,
    dispute_roles,
    dispute_state,
    dispute_steps,
)
from deals.models import Deal, DealStep, DisputeStep
from deals.outcomes import deal_outcome_write, outcome_wait_refusal
from deals.replicas import DISPUTE_STEP, dispute_body
from participants.evaluations import evaluation_issue
from participants.models import ParticipantStatus
from participants.principal import ParticipantPrincipal
from standards.deal_dispute_steps import CATEGORY, OUTCOME
from standards.deal_disputes import (
    ACTION_ROLES,
    EVALUATION_DIMENSION,
    dispute_step_clean,
    dispute_step_refusal,
)

# The score of the evaluation a resolution makes of the party it goes against (0–100; docs/deals.md).
OUTCOME_SCORE = {
    "redelivery": 60,
    "partial_refund": 40,
    "full_refund": 20,
    "upheld": 50,
    "compensation": 30,
}
_DECIDES = frozenset({"resolve", "ruling"})  # the actions that close a dispute with an outcome
# Refusals that are about who acts (403); the others are about the dispute's state (409).
_TICK = dt.timedelta(microseconds=1)
_WHO = frozenset({"dispute.wrong_role", "dispute.not_filer"})


def _role(actor: Any, deal: Deal, action: str) -> str:
    roles = dispute_roles(actor, deal)
    allowed = roles & ACTION_ROLES[action]
    if not allowed:
        raise Forbidden(
            message="无权在该纠纷中执行此操作",
            message_en=f"Only {', '.join(sorted(ACTION_ROLES[action]))} may {action} a dispute",
            code="dispute.wrong_role",
            errors=[FieldError("role", "dispute.wrong_role", "无权执行此操作", f"You may not {action}")],
            extra={"roles": sorted(roles)},
        )
    if isinstance(actor, ParticipantPrincipal) and actor.status != ParticipantStatus.VERIFIED:
        raise Forbidden(
            message="该市场主体尚未通过核验或已暂停", message_en="Not verified", code="not_verified"
        )
    role = sorted(allowed)[0]
    owner = dispute_role_origin(deal, role)
    if owner != settings.NODE_CODE:
        raise Forbidden(
            message=f"此步骤由 {owner} 节点记录，请在该节点操作",
            message_en=f"The {role}'s dispute steps are taken at the {owner} node",
            code="not_owner",
            extra={"node": owner},
        )
    return role


def _refuse(refusal: FieldError, derived: dict) -> None:
    if refusal.code == "dispute.outcome_not_for_filer":  # the request's outcome itself is wrong: 400
        raise ValidationFailed([refusal], message=refusal.message, message_en=refusal.message_en)
    kind = Forbidden if refusal.code in _WHO else Conflict
    raise kind(
        message=refusal.message,
        message_en=refusal.message_en,
        code=refusal.code,
        errors=[refusal],
        extra={"state": derived["state"], "allowed": derived["allowed"]},
    )


def _filing_refusal(deal: Deal) -> None:
    if deal_amount(deal) is None:
        raise Conflict(
            message="交易尚未订立合同，不能提起纠纷",
            message_en="A dispute is filed only on a deal with a contract",
            code="dispute.no_contract",
            errors=[FieldError("deal", "dispute.no_contract", "交易尚无合同", "The deal has no contract")],
        )
    open_dispute = deal_open_dispute(deal)
    if open_dispute is not None:
        raise Conflict(
            message="该交易已有未结的纠纷",
            message_en="The deal already has an open dispute",
            code="dispute.open",
            errors=[FieldError("deal", "dispute.open", "已有未结纠纷", "A dispute is open")],
            extra={"dispute": open_dispute.gid},
        )


def _label(terms, code: str) -> str:
    return next(t.zh for t in terms if t.code == code)


def _evaluate(actor: Any, deal: Deal, derived: dict, outcome: dict) -> str | None:
    """The evaluation an outcome makes of the party it goes against: the provider for a remedy of the
    buyer's dispute, the buyer for one of the provider's (None when dismissed)."""
    if outcome["against"] is None:
        return None
    today = timezone.localdate()
    evaluation = evaluation_issue(
        actor=actor,
        data={
            "subject": deal.provider_id if outcome["against"] == "provider" else deal.buyer_id,
            "dimension": EVALUATION_DIMENSION[derived["category"]],
            "score": OUTCOME_SCORE[outcome["kind"]],
            "summary": (
                f"交易纠纷处理结果：{_label(OUTCOME, outcome['kind'])}"
                f"（{_label(CATEGORY, derived['category'])}）"
            ),
            "evidence_ref": f"deal:{deal.gid}",
            "valid_from": today,
            "valid_until": today + dt.timedelta(days=365),
        },
    )
    return evaluation.gid


def _write(
    deal: Deal, role: str, dispute_gid: str | None, clean: dict, extra: dict | None = None
) -> DisputeStep:
    gid = f"{settings.NODE_CODE}-{uuid.uuid4().hex}"
    step = DisputeStep.objects.create(
        gid=gid,
        origin=settings.NODE_CODE,
        deal_gid=deal.gid,
        dispute_gid=dispute_gid or gid,
        audience=deal.audience,
        action=clean["action"],
        role=role,
        actor_id=dispute_role_actor(deal, role),
        at=clean["at"],
        body={**dispute_body(clean), **(extra or {})},
    )
    DISPUTE_STEP.publish([step])
    disputes_followup([step.dispute_gid])
    return step


@transaction.atomic
def dispute_take(
    *, actor: Any, deal: Deal, action: str, data: dict, dispute_gid: str | None = None, now=None
) -> DisputeStep:
    """File a dispute (`dispute_gid` None) or take `action` in one, at the node that owns the actor's steps,
    when the standard allows it in the state derived here. 403 wrong actor or node, 409 wrong state, 400 a
    malformed step."""
    role = _role(actor, deal, action)
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    amount = deal_amount(deal)
    if action == "file":
        _filing_refusal(deal)
        steps = []
    else:
        steps = dispute_steps(dispute_gid)
        if not any(s.action == "file" and s.gid == dispute_gid for s in steps):
            raise NotFound(message="纠纷不存在", message_en="No such dispute", code="not_found")
    # Steps are ordered by time: a step never goes before one its writer held (a clock behind a peer's).
    now = max([now or timezone.now(), *(s.at + _TICK for s in steps)])
    derived = dispute_state(deal, dispute_gid or "", steps, amount=amount)
    clean = dispute_step_clean({**data, "action": action, "role": role, "at": now}, deal_amount=amount)
    refusal = dispute_step_refusal(derived, clean)
    if refusal is not None:
        _refuse(refusal, derived)
    extra = None
    if action in _DECIDES:
        outcome_wait_refusal(deal, steps)
        evaluation = _evaluate(actor, deal, derived, clean["outcome"])
        extra = {} if evaluation is None else {"evaluation": evaluation}
    step = _write(deal, role, dispute_gid, clean, extra)
    if action in _DECIDES:
        deal_outcome_write(deal=deal, dispute_gid=dispute_gid, outcome=clean["outcome"], at=clean["at"])
    return step


def dispute_file_on_rejection(deal: Deal, rejection: DealStep) -> DisputeStep | None:
    """A buyer's rejection of a delivery files a dispute at once, at the buyer's home (where the rejection
    is written, in its transaction): category `not_as_described`, the rejection's reason as its
    description, the rejection step as its evidence. None when a dispute of the deal is already open."""
    if deal_open_dispute(deal) is not None:
        return None
    clean = dispute_step_clean(
        {
            "action": "file",
            "role": "buyer",
            "at": rejection.at,
            "category": "not_as_described",
            "description": rejection.body.get("reason") or "验收不通过",
            "evidence": [f"deal_step:{rejection.gid}"],
        }
    )
    return _write(deal, "buyer", None, clean)
