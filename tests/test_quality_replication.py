"""Quality reports and recognition policies between nodes: a peer's report applied (good and forged, through
the signed feed), this node's recognition re-decided when a report arrives, is withdrawn or expires under a
policy that requires one, and the search filters on the products' grade column."""

import datetime as dt

import pytest
from django.utils import timezone

from federation.apply import apply_page
from federation.models import Entry, QuarantinedEntry
from participants.signals import registrations_changed
from products.models import Product, Recognition
from products.verdict import recognition_evaluate
from quality.models import QualityReport, RecognitionPolicy
from quality.services import recognitions_redecide_all
from quality.tasks import quality_tick
from tests.factories import make_foreign_product
from tests.quality_world import new_uscc, peer_assessor, peer_payload
from tests.test_federation_apply import ORIGIN, bjidx_key, code, item, product, samples  # noqa: F401

pytestmark = pytest.mark.django_db
REASON = "quality_report"


def _recognisable() -> dict:
    return next(d for d in samples(30, seed=11) if recognition_evaluate(d)[0] == "recognised")


class Feed:
    """BJIDX's feed as this node pulls it: one signed entry after another."""

    def __init__(self, key):
        self.key, self.seq = key, 0

    def send(self, record_type: str, gid: str, payload: dict, *, version: int = 1, key=None) -> int:
        self.seq += 1
        entry = item(
            key or self.key, seq=self.seq, gid=gid, payload=payload, record_type=record_type, version=version
        )
        applied, _ = apply_page(origin=ORIGIN, items=[entry], source=ORIGIN, after=self.seq - 1)
        return applied

    def product(self, serial: int = 1) -> str:
        assert self.send("product", code(serial), product(serial, _recognisable())) == 1
        return code(serial)


@pytest.fixture
def feed(bjidx_key):  # noqa: F811
    return Feed(bjidx_key)


def _recognition(product_code: str) -> Recognition:
    return Recognition.objects.get(product_code=product_code, exchange_id="SHDEX")


def _require_reports(alice_api, django_capture_on_commit_callbacks, required=True):
    with django_capture_on_commit_callbacks(execute=False):
        response = alice_api.put(
            "/api/v1/exchanges/SHDEX/recognition-policy/",
            {"quality_report_required": required},
            format="json",
        )
    assert response.status_code == 200, response.content
    recognitions_redecide_all()  # what the task queued on commit does


class TestApply:
    def test_a_peers_report_is_applied_and_grades_the_product(self, anon, feed):
        listed = feed.product()
        assessor = peer_assessor("BJIDX")
        gid, payload = peer_payload(ORIGIN, listed, assessor, score=77)
        assert feed.send("quality_report", gid, payload) == 1
        report = QualityReport.objects.get(gid=gid)
        assert (report.origin, report.grade, report.overall_score, report.counted) == (ORIGIN, "B", 77, True)
        assert Product.objects.get(code=listed).quality_grade == "B"
        listed_reports = anon.get(f"/api/v1/products/{listed}/quality-reports/").json()["results"]
        assert [(r["id"], r["state"]) for r in listed_reports] == [(gid, "valid")]

    def test_a_report_arriving_before_its_product_grades_it_once_it_arrives(self, feed):
        assessor = peer_assessor("BJIDX")
        gid, payload = peer_payload(ORIGIN, code(5), assessor, score=95)
        assert feed.send("quality_report", gid, payload) == 1
        feed.product(5)
        assert Product.objects.get(code=code(5)).quality_grade == "A"

    def test_forged_and_broken_reports_are_refused(self, feed):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        listed = feed.product()
        assessor = peer_assessor("BJIDX")
        stranger = peer_assessor("GZDEX")  # registered at another exchange: BJIDX cannot publish for it
        cases = {}
        gid, p = peer_payload(ORIGIN, listed, assessor)
        cases["other origin's id"] = (
            gid.replace("BJIDX-", "GZDEX-"),
            {**p, "id": gid.replace("BJIDX-", "GZDEX-")},
        )
        gid, p = peer_payload(ORIGIN, listed, "GZDEX")
        cases["another exchange's report"] = (gid, {**p, "assessor_type": "exchange", "assessor_id": "GZDEX"})
        gid, p = peer_payload(ORIGIN, listed, assessor)
        p["dimensions"]["accuracy"]["score"] = 120
        cases["score out of range"] = (gid, p)
        gid, p = peer_payload(ORIGIN, listed, assessor, score=80)
        cases["grade not the scale's"] = (gid, {**p, "grade": "A"})
        gid, p = peer_payload(ORIGIN, listed, assessor, score=80)
        cases["overall not the mean"] = (gid, {**p, "overall_score": 99})
        gid, p = peer_payload(ORIGIN, listed, assessor)
        cases["validity ends first"] = (gid, {**p, "valid_until": p["assessed_at"]})
        gid, p = peer_payload(ORIGIN, listed, assessor)
        cases["extra field"] = (gid, {**p, "colour": "red"})
        for name, (gid, payload) in cases.items():
            assert feed.send("quality_report", gid, payload) == 0, name
        gid, p = peer_payload(ORIGIN, listed, assessor)
        assert feed.send("quality_report", gid, p, key=Ed25519PrivateKey.generate()) == 0  # not BJIDX's key
        assert not QualityReport.objects.exists()
        assert QuarantinedEntry.objects.filter(origin=ORIGIN).count() >= len(cases)
        # A report BJIDX publishes for an assessor registered at GZDEX is kept but never counts here.
        gid, p = peer_payload(ORIGIN, listed, stranger)
        assert feed.send("quality_report", gid, p) == 1
        assert Product.objects.get(code=listed).quality_grade == ""

    def test_a_report_counts_once_its_assessor_is_known_here_and_stops_when_suspended(self, anon, feed):
        listed = feed.product()
        assessor = new_uscc()
        gid, payload = peer_payload(ORIGIN, listed, assessor, score=91)
        assert feed.send("quality_report", gid, payload) == 1
        url = f"/api/v1/quality-reports/{gid}/"
        assert anon.get(url).json()["state"] == "assessor_unqualified"
        assert Product.objects.get(code=listed).quality_grade == ""
        peer_assessor("BJIDX", participant_id=assessor, region=assessor[2:8])
        registrations_changed.send(
            sender=None, participant_ids={assessor}
        )  # as the registration's apply does
        assert anon.get(url).json()["state"] == "valid"
        assert Product.objects.get(code=listed).quality_grade == "A"
        from participants.models import Participant

        Participant.objects.filter(participant_id=assessor).update(status="suspended")
        registrations_changed.send(sender=None, participant_ids={assessor})
        assert Product.objects.get(code=listed).quality_grade == ""

    def test_a_report_dated_ahead_is_refused_beyond_a_day_and_counts_once_its_day_comes(self, anon, feed):
        listed = feed.product()
        assessor = peer_assessor("BJIDX")
        today = timezone.localdate()
        gid, payload = peer_payload(
            ORIGIN, listed, assessor, assessed_at=(today + dt.timedelta(days=3)).isoformat()
        )
        assert feed.send("quality_report", gid, payload) == 0
        tomorrow = (today + dt.timedelta(days=1)).isoformat()
        gid, payload = peer_payload(ORIGIN, listed, assessor, score=93, assessed_at=tomorrow)
        assert feed.send("quality_report", gid, payload) == 1  # a day of clock skew is accepted
        assert anon.get(f"/api/v1/quality-reports/{gid}/").json()["state"] == "not_yet_valid"
        assert Product.objects.get(code=listed).quality_grade == ""
        # The day comes (its date moved back a day, as time moving on would).
        QualityReport.objects.filter(gid=gid).update(assessed_at=today)
        quality_tick()
        assert Product.objects.get(code=listed).quality_grade == "A"
        assert anon.get(f"/api/v1/quality-reports/{gid}/").json()["state"] == "valid"

    def test_a_peers_policy_is_applied_and_published_with_its_directory_entry(self, anon, feed):
        assert anon.get("/api/v1/exchanges/BJIDX/recognition-policy/").json() == {
            "exchange": "BJIDX",
            "quality_report_required": False,
            "version": 0,
            "published": False,
        }
        policy = {"exchange": "BJIDX", "quality_report_required": True}
        assert feed.send("recognition_policy", "BJIDX", policy) == 1
        assert (
            anon.get("/api/v1/exchanges/BJIDX/recognition-policy/").json()["quality_report_required"] is True
        )
        assert feed.send("recognition_policy", "GZDEX", {**policy, "exchange": "GZDEX"}, version=2) == 0
        assert (
            feed.send("recognition_policy", "BJIDX", {**policy, "quality_report_required": "yes"}, version=3)
            == 0
        )
        assert not RecognitionPolicy.objects.filter(exchange_code="GZDEX").exists()
        assert anon.get("/api/v1/exchanges/NOPE/recognition-policy/").status_code == 404


class TestPolicy:
    def test_only_this_exchanges_operators_set_its_policy_which_is_published(self, alice_api, bob_api, anon):
        url = "/api/v1/exchanges/SHDEX/recognition-policy/"
        assert bob_api.put(url, {"quality_report_required": True}, format="json").status_code == 403
        assert anon.put(url, {"quality_report_required": True}, format="json").status_code == 401
        assert (
            alice_api.put(
                "/api/v1/exchanges/BJIDX/recognition-policy/",
                {"quality_report_required": True},
                format="json",
            ).status_code
            == 403
        )
        bad = alice_api.put(url, {"quality_report_required": "yes"}, format="json")
        assert bad.status_code == 400
        response = alice_api.put(url, {"quality_report_required": True}, format="json")
        assert response.status_code == 200 and response.json()["version"] == 1
        entry = Entry.objects.get(record_type="recognition_policy", gid="SHDEX")
        assert entry.version == 1
        assert anon.get(url).json() == {
            "exchange": "SHDEX",
            "quality_report_required": True,
            "version": 1,
            "published": True,
        }


class TestRecognition:
    def test_without_a_policy_a_product_is_recognised_without_a_report(self, feed):
        listed = feed.product()
        assert _recognition(listed).status == "recognised"

    def test_a_required_report_holds_recognition_until_it_arrives_and_after_it_is_withdrawn(
        self, alice_api, feed, django_capture_on_commit_callbacks
    ):
        _require_reports(alice_api, django_capture_on_commit_callbacks)
        listed = feed.product()
        recognition = _recognition(listed)
        assert recognition.status == "pending" and recognition.reasons[0].startswith(REASON)
        assert "本交易所" in recognition.reasons[0] and "requires a valid quality" in recognition.reasons[0]
        assessor = peer_assessor("BJIDX")
        gid, payload = peer_payload(ORIGIN, listed, assessor)
        assert feed.send("quality_report", gid, payload) == 1
        assert _recognition(listed).status == "recognised" and _recognition(listed).reasons == []
        published = Entry.objects.get(record_type="recognition", gid=f"{listed}@SHDEX")
        assert '"status":"recognised"' in published.body
        withdrawn = {**payload, "status": "withdrawn", "withdrawn_reason": "样本有误"}
        assert feed.send("quality_report", gid, withdrawn, version=2) == 1
        assert _recognition(listed).status == "pending"
        assert Product.objects.get(code=listed).quality_grade == ""

    def test_an_expired_report_no_longer_counts_once_the_tick_runs(
        self, alice_api, feed, django_capture_on_commit_callbacks
    ):
        _require_reports(alice_api, django_capture_on_commit_callbacks)
        listed = feed.product()
        gid, payload = peer_payload(ORIGIN, listed, peer_assessor("BJIDX"))
        feed.send("quality_report", gid, payload)
        assert _recognition(listed).status == "recognised"
        quality_tick()  # nothing has expired: nothing changes
        assert (
            _recognition(listed).status == "recognised"
            and Product.objects.get(code=listed).quality_grade == "B"
        )
        # Time passes: the report's period now ended yesterday.
        today = timezone.localdate()
        QualityReport.objects.filter(gid=gid).update(
            assessed_at=today - dt.timedelta(days=200), valid_until=today - dt.timedelta(days=1)
        )
        quality_tick()
        assert _recognition(listed).status == "pending"
        assert Product.objects.get(code=listed).quality_grade == ""
        version = _recognition(listed).version
        quality_tick()  # idempotent: nothing counts any more, nothing is written again
        assert _recognition(listed).version == version
        assert not QualityReport.objects.filter(counted=True).exists()

    def test_setting_the_policy_redecides_products_already_held_and_an_operators_decision_stands(
        self, alice, alice_api, feed, django_capture_on_commit_callbacks
    ):
        from products.recognition import recognition_review

        first, second = feed.product(1), feed.product(2)
        assert _recognition(first).status == _recognition(second).status == "recognised"
        recognition_review(
            actor=alice, product=Product.objects.get(code=second), status="recognised", reasons=[]
        )
        _require_reports(alice_api, django_capture_on_commit_callbacks)
        assert _recognition(first).status == "pending"
        assert _recognition(second).status == "recognised" and _recognition(second).decided_by == "operator"
        _require_reports(alice_api, django_capture_on_commit_callbacks, required=False)
        assert _recognition(first).status == "recognised"

    def test_the_policy_change_queues_the_redecision(
        self, alice_api, django_capture_on_commit_callbacks, monkeypatch
    ):
        queued = []
        monkeypatch.setattr("core.queue.enqueue", lambda name, *args: queued.append(name))
        with django_capture_on_commit_callbacks(execute=True):
            alice_api.put(
                "/api/v1/exchanges/SHDEX/recognition-policy/",
                {"quality_report_required": True},
                format="json",
            )
        assert queued == ["quality.tasks.recognitions_redecide_all"]


class TestSearch:
    @pytest.fixture
    def graded(self):
        products = {grade: make_foreign_product(exchange_id="BJIDX") for grade in ("A", "C", "")}
        for grade, row in products.items():
            Product.objects.filter(pk=row.pk).update(quality_grade=grade)
        return {grade: row.code for grade, row in products.items()}

    def _codes(self, anon, **params) -> set[str]:
        response = anon.get("/api/v1/products/", params)
        assert response.status_code == 200, response.content
        return {p["code"] for p in response.json()["results"]}

    def test_minimum_grade_and_assessed_filters(self, anon, graded):
        assert self._codes(anon, quality_grade="A") == {graded["A"]}
        assert self._codes(anon, quality_grade="B") == {graded["A"]}
        assert self._codes(anon, quality_grade="C") == {graded["A"], graded["C"]}
        assert self._codes(anon, quality_grade="D") == {graded["A"], graded["C"]}
        assert self._codes(anon, assessed="true") == {graded["A"], graded["C"]}
        assert graded[""] in self._codes(anon, assessed="false")
        assert not {graded["A"], graded["C"]} & self._codes(anon, assessed="false")
        assert self._codes(anon, assessed="false", quality_grade="C") == set()

    def test_bad_filter_values_are_400_naming_the_parameter(self, anon, graded):
        for params, field in (({"quality_grade": "E"}, "quality_grade"), ({"assessed": "maybe"}, "assessed")):
            response = anon.get("/api/v1/products/", params)
            assert response.status_code == 400
            assert {e["field"] for e in response.json()["error"]["errors"]} == {field}
