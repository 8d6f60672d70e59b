"""What the console tests share (tests/test_portal_console*.py): a merchant's and a demander's signed-in
clients, the draft form's and the demand form's values, a field's messages on a page."""

import copy
import datetime
import json
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import User
from portal.views import console_descriptor
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.factories import register_provider
from tests.portal_helpers import signed_in

ROOT = Path(__file__).resolve().parents[1]
DEMANDER = "91310115AY4CL12T2E"
POLICY = json.dumps(
    {
        "permissions": ["use", "analyse"],
        "constraints": {"purpose": ["research"], "territory": ["CN-mainland"]},
    }
)
BAD_NAME = "最好的上海市充电桩运行数据集"  # a forbidden term of the naming rule


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def merchant(db) -> Client:
    user = User.objects.create(
        username="merchant-1",
        role=User.Role.PARTICIPANT,
        participant_id=EXAMPLE_DESCRIPTOR["provider"]["uscc"],
    )
    return signed_in(user)


@pytest.fixture
def demander(db) -> Client:
    register_provider(DEMANDER, "上海浦数智能科技有限公司", roles=("demander",))
    user = User.objects.create(username="buyer-1", role=User.Role.PARTICIPANT, participant_id=DEMANDER)
    return signed_in(user)


def draft_post(**changes) -> dict:
    """The example descriptor as the draft form posts it."""
    values = console_descriptor.values_from(copy.deepcopy(EXAMPLE_DESCRIPTOR))
    values.update(changes)
    return values


def field_messages(page: str, name: str) -> str:
    start = page.index(f'id="err-{name}"')
    return page[start : page.index("</ul>", start)]


def demand_post(**changes) -> dict:
    demand = json.loads((ROOT / "docs/examples/demand.json").read_text("utf-8"))
    values = {
        "title": demand["title"],
        "description": demand["description"],
        "industry": "D",
        "product_forms": ["dataset", "api"],
        "spatial_coverage": "310000",
        "update_frequency": "daily",
        "budget_min": "50000",
        "budget_max": "200000",
        "deadline": (datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
        "delivery_methods": ["api", "file"],
    }
    values.update(changes)
    return values
