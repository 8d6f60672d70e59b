"""The product lifecycle at the home exchange, as a table: which action moves which status where.

draft ──submit──▶ submitted ──approve──▶ listed ──suspend──▶ suspended
  ▲                 │  │                  │  ▲                 │
  └───withdraw──────┘  └──reject──▶ rejected  └───reinstate─────┘
                               │ (edit, submit again)
listed / suspended ──delist──▶ delisted (final)
"""

from core.exceptions import Conflict
from products.models import ProductStatus as S

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({S.DRAFT, S.REJECTED}), S.SUBMITTED),
    "withdraw": (frozenset({S.SUBMITTED}), S.DRAFT),
    "approve": (frozenset({S.SUBMITTED}), S.LISTED),
    "reject": (frozenset({S.SUBMITTED}), S.REJECTED),
    "suspend": (frozenset({S.LISTED}), S.SUSPENDED),
    "reinstate": (frozenset({S.SUSPENDED}), S.LISTED),
    "delist": (frozenset({S.LISTED, S.SUSPENDED}), S.DELISTED),
}

# A product under review is frozen so the reviewer decides on what was submitted; a delisted one is final.
EDITABLE = frozenset({S.DRAFT, S.REJECTED, S.LISTED, S.SUSPENDED})
# States in which anyone can read the product (a delisted product stays visible, as delisted, everywhere).
PUBLIC = frozenset({S.LISTED, S.SUSPENDED, S.DELISTED})


def transition_target(*, status: str, action: str) -> str:
    sources, target = TRANSITIONS[action]
    if status not in sources:
        allowed = ", ".join(sorted(sources))
        raise Conflict(
            message=f"当前状态为 {status}，不能执行 {action}（仅允许从 {allowed} 执行）",
            message_en=f"Cannot {action} a product in status {status}; allowed from: {allowed}",
            code="invalid_transition",
            extra={"current_status": status, "action": action, "allowed_from": sorted(sources)},
        )
    return target


def ensure_editable(*, status: str) -> None:
    if status not in EDITABLE:
        raise Conflict(
            message=f"状态为 {status} 的产品不能修改",
            message_en=f"A product in status {status} cannot be edited",
            code="invalid_transition",
            extra={"current_status": status, "action": "update", "allowed_from": sorted(EDITABLE)},
        )
