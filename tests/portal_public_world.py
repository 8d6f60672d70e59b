"""A small world for the portal's public pages (demand board, participant page): a demander and its open
demand, the example product listed by its provider (registered by conftest), and an evaluation of that
provider — all made through the services, as the API makes them."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path

from accounts.models import User
from demands.services import demand_post
from participants.evaluations import evaluation_issue
from participants.principal import ParticipantPrincipal
from products.models import ProductStatus
from tests.factories import make_product, register_provider

ROOT = Path(__file__).resolve().parents[1]
DEMAND = json.loads((ROOT / "docs/examples/demand.json").read_text("utf-8"))
PRODUCT = json.loads((ROOT / "docs/examples/product-descriptor.json").read_text("utf-8"))
EVALUATION = json.loads((ROOT / "docs/examples/evaluation.json").read_text("utf-8"))
DEMANDER = "91310115AY4CL12T2E"
PROVIDER = PRODUCT["provider"]["uscc"]


def demander() -> ParticipantPrincipal:
    register_provider(DEMANDER, "上海浦数智能科技有限公司", roles=("demander",))
    return ParticipantPrincipal(
        participant_id=DEMANDER,
        home="SHDEX",
        username="buyer",
        roles=("demander",),
        services=(),
        legal_name="上海浦数智能科技有限公司",
        status="verified",
    )


def post_demand(**changes):
    data = copy.deepcopy(DEMAND)
    data["deadline"] = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=60)).isoformat()
    data.update(changes)
    return demand_post(actor=demander(), data=data)


def list_example_product(operator: User):
    return make_product(actor=operator, descriptor=copy.deepcopy(PRODUCT), status=ProductStatus.LISTED)


def evaluate_provider(operator: User, **changes):
    today = datetime.date.today()
    data = {
        **EVALUATION,
        "subject": PROVIDER,
        "valid_from": today,
        "valid_until": today + datetime.timedelta(days=300),
        **changes,
    }
    return evaluation_issue(actor=operator, data=data)
