"""How this node judges a product listed at another exchange against the common standard (互认), before
any operator looks at it: the rule is the network's (`standards.recognition`); here, a recognition as plain
values.
Pure: it runs with the checks of a feed page, in the helper process on a catch-up."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from standards.recognition import RECOGNITION_CHECK_VERSION, recognition_evaluate

POLICY_VERSION = RECOGNITION_CHECK_VERSION

__all__ = ["POLICY_VERSION", "RecognitionRecord", "recognition_evaluate"]


class RecognitionRecord(NamedTuple):
    """A recognition as plain values, in the columns `core.bulk.copy_rows` writes (RECOGNITION_COLUMNS):
    most of a feed page's recognitions are new, and need no model instance to be written or published."""

    product_code: str
    exchange_id: str
    status: str
    reasons: list[str]
    product_version: int
    decided_by: str
    policy_version: str
    version: int
    updated_at: datetime
    published: bool = True
