"""Who may write a product: only its home node, and there only its exchange's operators, the node's admins,
or the product's provider (a data merchant) for what it may do itself."""

from __future__ import annotations

from django.conf import settings

from accounts.models import User
from core.exceptions import Forbidden
from participants.principal import ParticipantPrincipal
from participants.selectors import registration_stands
from products.models import ProductVersion

# What a data merchant may do itself, with its participant token, to its own products at this node; reviews,
# suspensions and reinstatements stay with the exchange's operators.
PROVIDER_ACTIONS = frozenset({"create", "update", "submit", "withdraw", "delist", "sample"})


def _is_participant(actor) -> bool:
    return isinstance(actor, ParticipantPrincipal)


def actor_kind(actor: User | ParticipantPrincipal | None) -> str:
    """The kind of actor a version records (`ProductVersion.ActorKind`): the node itself (no actor), the
    provider (a participant, whether or not its home is this node), or else an operator or admin."""
    if actor is None:
        return ProductVersion.ActorKind.NODE
    if _is_participant(actor) or getattr(actor, "role", "") == User.Role.PARTICIPANT:
        return ProductVersion.ActorKind.PROVIDER
    return ProductVersion.ActorKind.OPERATOR


def product_can_write(
    *, actor: User | None, exchange_id: str, provider: str | None = None, action: str | None = None
) -> bool:
    """Only the home node writes a product, and there only its exchange's operators, the node's admins, or
    the product's provider (a data merchant, for the actions in PROVIDER_ACTIONS).

    `actor=None` is the node itself (management commands run by whoever runs the node).
    """
    if exchange_id != settings.NODE_CODE:
        return False
    if actor is None:
        return True
    if not actor.is_active:
        return False
    if _is_participant(actor):
        # The provider's registration that stands here (USCC and home exchange), not any of the USCC's.
        return (
            actor.has_role("data_merchant")
            and (provider is None or provider == actor.participant_id)
            and (action is None or action in PROVIDER_ACTIONS)
            and registration_stands(participant_id=actor.participant_id, home=actor.home)
        )
    if actor.is_superuser or actor.role == User.Role.ADMIN:
        return True
    return actor.role == User.Role.OPERATOR and actor.exchange_id == exchange_id


def authorize_write(
    *, actor: User | None, exchange_id: str, provider: str | None = None, action: str | None = None
) -> None:
    if product_can_write(actor=actor, exchange_id=exchange_id, provider=provider, action=action):
        return
    if exchange_id != settings.NODE_CODE:
        raise Forbidden(
            message=f"该产品属于 {exchange_id}，只能由其所属交易所的节点修改",
            message_en=f"This product belongs to {exchange_id}; only its home node can change it",
            code="not_owner",
        )
    if _is_participant(actor):
        raise Forbidden(
            message="数商只能管理自己作为提供方的产品（审核、暂停、恢复由交易所运营人员负责）",
            message_en=(
                "A data merchant manages only products it provides, and not their review, suspension "
                "or reinstatement (the exchange's operators do that)"
            ),
            code="not_owner",
        )
    raise Forbidden(
        message=f"只有 {exchange_id} 的运营人员可以管理该交易所的产品",
        message_en=f"Only operators of {exchange_id} may manage its products",
        code="not_owner",
    )
