"""Deals in each state an action needs, for the tests that send something to every endpoint
(tests/test_fuzz.py): a deal per state, the valid body of each action, and the client that takes it."""

from deals.compliance import deal_compliance_run

ORDER = {
    "purpose": "充电设施规划与负荷预测研究",
    "usage_policy": {
        "permissions": ["use", "analyse"],
        "constraints": {"purpose": ["research"], "territory": ["CN-mainland"], "duration_days": 365},
    },
    "delivery_method": "file",
}
OFFER = {
    "price": "20000.00",
    "usage_policy": {
        "permissions": ["use", "analyse", "derive"],
        "prohibitions": ["redistribute", "resell"],
        "constraints": {"purpose": ["research", "internal_analysis"], "territory": ["CN-mainland"]},
    },
    "delivery_method": "file",
    "delivery_days": 10,
    "acceptance_window_hours": 72,
}
FILES = [{"name": "charging-2026-11.csv", "size": 1048576, "sha256": "3" * 64}]
RECEIVED = [{"name": "charging-2026-11.csv", "sha256": "3" * 64}]
# action: (the state its deal is in, who takes it, its valid body)
ACTIONS = {
    "offers": ("ordered", "seller", OFFER),
    "accept": ("negotiating", "buyer", {"offer_version": 1}),
    "cancel": ("ordered", "buyer", {"reason": "预算取消"}),
    "terminate": ("ordered", "alice", {"reason": "涉嫌违规交易"}),
    "deliveries": ("cleared", "seller", {"method": "file", "files": FILES}),
    "receipt": ("delivered", "buyer", {"files": RECEIVED}),
    "acceptance": ("delivered", "buyer", {"result": "accepted"}),
    "evaluations": ("settled", "buyer", {"dimension": "service", "score": 88, "summary": "交付及时"}),
}
_PATH = [
    ("offers", "seller", OFFER),
    ("accept", "buyer", {}),
    ("accept", "seller", {}),
    ("deliveries", "seller", {"method": "file", "files": FILES}),
    ("acceptance", "buyer", {"result": "accepted"}),
    ("settlement", "alice", {}),
]
_STOPS = {"ordered": 0, "negotiating": 1, "cleared": 3, "delivered": 4, "settled": 6}


def _deal_in(state: str, clients: dict, product_code: str) -> str:
    deal = clients["buyer"].post("/api/v1/deals/", {"product": product_code, "request": ORDER}, format="json")
    assert deal.status_code == 201, deal.content
    gid = deal.json()["id"]
    for i, (action, who, body) in enumerate(_PATH[: _STOPS[state]]):
        response = clients[who].post(f"/api/v1/deals/{gid}/{action}/", body, format="json")
        assert response.status_code == 201, response.content
        if i == 2:  # agreed: the coordinator's check (a task after commit, run here at once)
            assert deal_compliance_run(gid)
    return gid


def deal_world(clients: dict, product_code: str) -> tuple[dict, dict]:
    """({"{deal:<action>}": id of a deal the action may be taken on}, {path: valid body})."""
    deals = {state: _deal_in(state, clients, product_code) for state in _STOPS}
    paths = {f"{{deal:{action}}}": deals[state] for action, (state, _, _) in ACTIONS.items()}
    bodies = {f"/api/v1/deals/{{id}}/{action}/": body for action, (_, _, body) in ACTIONS.items()}
    bodies["/api/v1/deals/"] = {"product": product_code, "request": ORDER}
    bodies["/api/v1/exchanges/{code}/terms/"] = {"listing_fee_bp": 120, "buyer_fee_bp": 40}
    return paths, bodies


def deal_client(path: str) -> str | None:
    """Who takes the action at `path`, if it is a deal's."""
    if path == "/api/v1/deals/":
        return "buyer"
    for action, (_, who, _) in ACTIONS.items():
        if path == f"/api/v1/deals/{{id}}/{action}/":
            return who
    return None


def deal_fill(path: str, values: dict) -> str | None:
    if path.startswith("/api/v1/exchanges/"):
        return path.replace("{code}", "SHDEX")
    for action in ACTIONS:
        if path.startswith("/api/v1/deals/{id}/") and path.endswith(f"/{action}/"):
            return path.replace("{id}", values[f"{{deal:{action}}}"])
    if path.startswith("/api/v1/deals/{id}/"):
        return path.replace("{id}", values["{deal:offers}"])
    return None
