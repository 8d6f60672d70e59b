"""Deals in each state an action needs, for the tests that send something to every endpoint
(tests/test_fuzz.py): a deal per state, the valid body of each action, and the client that takes it; and a
dispute in each state a dispute action needs."""

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
FILING = {"category": "quality", "description": "数据缺失三天", "claim_amount": "500.00", "evidence": ["t:1"]}
# dispute action: (the deal's state, the dispute's state, who takes it, its valid body); "file" files one.
DISPUTE_ACTIONS = {
    "file": ("cleared", None, "buyer", FILING),
    "accept": ("delivered", "filed", "alice", {"reason": "予以受理"}),
    "message": ("delivered", "filed", "buyer", {"text": "请尽快处理"}),
    "withdraw": ("delivered", "filed", "buyer", {"reason": "已和解"}),
    "escalate": ("delivered", "filed", "alice", {"venue": "arbitration", "reference": "2026-118"}),
    "statement": ("settled", "accepted", "buyer", {"text": "缺失三天数据", "evidence": ["log:1"]}),
    "resolve": (
        "settled",
        "accepted",
        "alice",
        {"outcome": {"kind": "partial_refund", "refund_amount": "100.00", "summary": "部分退款"}},
    ),
    "ruling": (
        "cleared",
        "escalated",
        "alice",
        {"outcome": {"kind": "dismissed", "summary": "仲裁裁决驳回"}, "reference": "（2026）沪仲字第118号"},
    ),
}
_DISPUTES = "/api/v1/deals/{id}/disputes/"
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


def _disputes(clients: dict, deals: dict) -> dict:
    """A filed dispute on the delivered deal, an accepted one on the settled deal, an escalated one (closed:
    the cleared deal may still file another) on the cleared deal."""
    disputes = {}
    for state, deal in (
        ("filed", deals["delivered"]),
        ("accepted", deals["settled"]),
        ("escalated", deals["cleared"]),
    ):
        response = clients["buyer"].post(f"/api/v1/deals/{deal}/disputes/", FILING, format="json")
        assert response.status_code == 201, response.content
        disputes[state] = response.json()["id"]
    accepted = f"/api/v1/deals/{deals['settled']}/disputes/{disputes['accepted']}/accept/"
    assert clients["alice"].post(accepted, {}, format="json").status_code == 201
    escalated = f"/api/v1/deals/{deals['cleared']}/disputes/{disputes['escalated']}/escalate/"
    assert clients["alice"].post(escalated, {"venue": "arbitration"}, format="json").status_code == 201
    return disputes


def deal_world(clients: dict, product_code: str) -> tuple[dict, dict]:
    """({"{deal:<action>}": id of a deal the action may be taken on, "{dispute:<action>}": deal and dispute
    ids of a dispute it may be taken in}, {path: valid body})."""
    deals = {state: _deal_in(state, clients, product_code) for state in _STOPS}
    paths = {f"{{deal:{action}}}": deals[state] for action, (state, _, _) in ACTIONS.items()}
    disputes = _disputes(clients, deals)
    for action, (deal_state, dispute_state, _, _) in DISPUTE_ACTIONS.items():
        paths[f"{{dispute:{action}}}"] = (deals[deal_state], disputes.get(dispute_state))
    bodies = {f"/api/v1/deals/{{id}}/{action}/": body for action, (_, _, body) in ACTIONS.items()}
    bodies[_DISPUTES] = FILING
    for action, (_, _, _, body) in DISPUTE_ACTIONS.items():
        bodies[f"{_DISPUTES}{{dispute}}/{action}/"] = body
    bodies["/api/v1/deals/"] = {"product": product_code, "request": ORDER}
    bodies["/api/v1/exchanges/{code}/terms/"] = {"listing_fee_bp": 120, "buyer_fee_bp": 40}
    return paths, bodies


def deal_client(path: str) -> str | None:
    """Who takes the action at `path`, if it is a deal's."""
    if path == "/api/v1/deals/":
        return "buyer"
    if path == _DISPUTES:
        return DISPUTE_ACTIONS["file"][2]
    for action, (_, _, who, _) in DISPUTE_ACTIONS.items():
        if path == f"{_DISPUTES}{{dispute}}/{action}/":
            return who
    for action, (_, who, _) in ACTIONS.items():
        if path == f"/api/v1/deals/{{id}}/{action}/":
            return who
    return None


def _dispute_fill(path: str, values: dict) -> str:
    action = "file"
    for name in DISPUTE_ACTIONS:
        if path == f"{_DISPUTES}{{dispute}}/{name}/":
            action = name
    if path == f"{_DISPUTES}{{dispute}}/":
        action = "accept"  # a filed dispute
    deal, dispute = values[f"{{dispute:{action}}}"]
    return path.replace("{id}", deal).replace("{dispute}", dispute or "")


def deal_fill(path: str, values: dict) -> str | None:
    if path.startswith(_DISPUTES):
        return _dispute_fill(path, values)
    if path.startswith("/api/v1/exchanges/"):
        return path.replace("{code}", "SHDEX")
    for action in ACTIONS:
        if path.startswith("/api/v1/deals/{id}/") and path.endswith(f"/{action}/"):
            return path.replace("{id}", values[f"{{deal:{action}}}"])
    if path.startswith("/api/v1/deals/{id}/"):
        return path.replace("{id}", values["{deal:offers}"])
    return None
