"""Quality assessment reports issued at this node through the API: who may issue one, about what, the rules
of its content, withdrawal by its issuer, supersession, and what the product shows."""

import datetime as dt

import pytest
from django.utils import timezone

from federation.models import Entry
from products.models import Product, ProductStatus
from quality.models import QualityReport
from tests.factories import make_foreign_product, make_product
from tests.quality_world import assessor, body

pytestmark = pytest.mark.django_db
PRODUCTS = "/api/v1/products/"
REPORTS = "/api/v1/quality-reports/"


def _url(code: str) -> str:
    return f"{PRODUCTS}{code}/quality-reports/"


def _errors(response) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in response.json()["error"]["errors"]}


def _code(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """Every assessor logs in: a cheap hasher keeps these tests short."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def listed(alice):
    return make_product(actor=alice, status=ProductStatus.LISTED)


@pytest.fixture
def qa():
    return assessor()


class TestIssue:
    def test_a_qualified_assessor_issues_a_report_that_is_published_and_grades_the_product(self, listed, qa):
        uscc, client = qa
        response = client.post(_url(listed.code), body(score=92), format="json")
        assert response.status_code == 201, response.content
        report = response.json()
        assert report["assessor_type"] == "participant" and report["assessor_id"] == uscc
        assert report["grade"] == "A" and report["overall_score"] == 92 and report["state"] == "valid"
        assert report["product_version"] == listed.version and report["origin"] == "SHDEX"
        assert report["id"].startswith("SHDEX-")
        entry = Entry.objects.get(record_type="quality_report", gid=report["id"])
        assert entry.version == 1
        assert Product.objects.get(pk=listed.pk).quality_grade == "A"

    def test_an_operator_of_this_exchange_issues_one_as_the_exchange(self, alice_api, listed):
        response = alice_api.post(_url(listed.code), body(score=70), format="json")
        assert response.status_code == 201, response.content
        assert response.json()["assessor_type"] == "exchange" and response.json()["assessor_id"] == "SHDEX"
        assert response.json()["grade"] == "C"

    def test_an_operator_of_another_exchange_may_not(self, bob_api, listed):
        response = bob_api.post(_url(listed.code), body(), format="json")
        assert response.status_code == 403 and _code(response) == "assessor_role"

    def test_anonymous_callers_must_sign_in(self, anon, listed):
        assert anon.post(_url(listed.code), body(), format="json").status_code == 401

    @pytest.mark.parametrize(
        "kind",
        [
            {"services": ("audit",)},  # a service provider without quality_assessment
            {"roles": ("data_merchant",), "services": ()},  # not a service provider
        ],
    )
    def test_an_unqualified_assessor_is_refused(self, listed, kind):
        _, client = assessor(**kind)
        response = client.post(_url(listed.code), body(), format="json")
        assert response.status_code == 403 and _code(response) == "assessor_unqualified"
        assert not QualityReport.objects.exists()

    def test_a_suspended_assessor_is_refused(self, listed):
        _, client = assessor(status="suspended")
        response = client.post(_url(listed.code), body(), format="json")
        assert response.status_code == 401  # its tokens stop working at once
        assert not QualityReport.objects.exists()

    def test_the_service_checks_the_registration_not_the_tokens_claims(self, listed, qa):
        """A principal whose claims say verified, whose registration here is suspended, is refused."""
        from core.exceptions import Forbidden
        from participants.models import Participant
        from participants.principal import ParticipantPrincipal
        from quality.services import report_issue

        uscc, _ = qa
        Participant.objects.filter(participant_id=uscc).update(status="suspended")
        principal = ParticipantPrincipal(
            participant_id=uscc,
            home="SHDEX",
            username="qa",
            roles=("service_provider",),
            services=("quality_assessment",),
            legal_name="质检数据评估有限公司",
            status="verified",
        )
        data = {
            **body(),
            "assessed_at": timezone.localdate(),
            "valid_until": timezone.localdate() + dt.timedelta(days=9),
        }
        with pytest.raises(Forbidden) as caught:
            report_issue(actor=principal, product_code=listed.code, data=data)
        assert caught.value.code == "assessor_unqualified" and caught.value.extra == {
            "rule": "assessor.not_verified"
        }
        away = ParticipantPrincipal(**{**principal.__dict__, "home": "BJIDX"})
        with pytest.raises(Forbidden) as caught:
            report_issue(actor=away, product_code=listed.code, data=data)
        assert caught.value.code == "not_home"

    def test_a_provider_does_not_assess_its_own_product(self, alice):
        uscc, client = assessor(roles=("service_provider", "data_merchant"))
        from tests.factories import random_descriptor

        descriptor = random_descriptor()
        descriptor["provider"]["uscc"] = uscc
        own = make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)
        response = client.post(_url(own.code), body(), format="json")
        assert response.status_code == 403 and _code(response) == "self_assessment"

    def test_an_unknown_product_is_404_and_an_unlisted_one_refused(self, alice, qa):
        _, client = qa
        response = client.post(_url("SHDEX-2026-999999-X"), body(), format="json")
        assert response.status_code == 404 and _code(response) == "unknown_product"
        for state in (
            ProductStatus.DRAFT,
            ProductStatus.SUBMITTED,
            ProductStatus.SUSPENDED,
            ProductStatus.DELISTED,
        ):
            product = make_product(actor=alice, status=state)
            response = client.post(_url(product.code), body(), format="json")
            assert response.status_code == 400 and _errors(response) == {("product", "not_listed")}, state

    def test_a_product_listed_elsewhere_and_held_here_may_be_assessed(self, qa):
        _, client = qa
        foreign = make_foreign_product(exchange_id="BJIDX")
        assert client.post(_url(foreign.code), body(), format="json").status_code == 201

    @pytest.mark.parametrize("score", [-1, 101])
    def test_scores_out_of_range_are_refused(self, listed, qa, score):
        _, client = qa
        data = body()
        data["dimensions"]["accuracy"]["score"] = score
        response = client.post(_url(listed.code), data, format="json")
        assert response.status_code == 400
        assert {f for f, _ in _errors(response)} == {"dimensions.accuracy.score"}

    def test_missing_dimension_method_evidence_and_reference_are_named(self, listed, qa):
        _, client = qa
        data = body(reference="")
        del data["dimensions"]["timeliness"]
        data["dimensions"]["accuracy"]["method"] = ""
        response = client.post(_url(listed.code), data, format="json")
        assert response.status_code == 400
        fields = {f for f, _ in _errors(response)}
        assert {"dimensions.timeliness", "dimensions.accuracy.method", "reference"} <= fields

    def test_dates_rules(self, listed, qa):
        _, client = qa
        today = timezone.localdate()
        cases = {
            ("valid_until", "order"): body(valid_until=today.isoformat()),
            ("valid_until", "too_long"): body(valid_until=(today + dt.timedelta(days=1200)).isoformat()),
            ("assessed_at", "future"): body(
                assessed_at=(today + dt.timedelta(days=1)).isoformat(),
                valid_until=(today + dt.timedelta(days=30)).isoformat(),
            ),
            ("valid_until", "past"): body(
                assessed_at=(today - dt.timedelta(days=30)).isoformat(),
                valid_until=(today - dt.timedelta(days=1)).isoformat(),
            ),
        }
        for expected, data in cases.items():
            response = client.post(_url(listed.code), data, format="json")
            assert response.status_code == 400 and expected in _errors(response), (expected, response.content)

    def test_a_declared_grade_must_match_and_the_product_version_exist(self, listed, qa):
        _, client = qa
        response = client.post(_url(listed.code), body(score=80, grade="A"), format="json")
        assert response.status_code == 400 and _errors(response) == {("grade", "scale")}
        response = client.post(_url(listed.code), body(product_version=listed.version + 1), format="json")
        assert response.status_code == 400 and _errors(response) == {("product_version", "unknown")}
        response = client.post(_url(listed.code), body(product_version=1, grade="B"), format="json")
        assert response.status_code == 201 and response.json()["product_version"] == 1

    def test_unknown_fields_are_refused(self, listed, qa):
        _, client = qa
        response = client.post(_url(listed.code), body(colour="red"), format="json")
        assert response.status_code == 400 and ("colour", "unknown_field") in _errors(response)


class TestWithdrawAndSupersede:
    def test_the_issuer_withdraws_a_new_version_and_the_grade_follows(self, listed, qa):
        _, client = qa
        report = client.post(_url(listed.code), body(score=95), format="json").json()
        response = client.post(f"{REPORTS}{report['id']}/withdraw/", {"reason": "样本有误"}, format="json")
        assert response.status_code == 200, response.content
        withdrawn = response.json()
        assert (
            withdrawn["status"] == "withdrawn"
            and withdrawn["version"] == 2
            and withdrawn["state"] == "withdrawn"
        )
        assert Entry.objects.get(record_type="quality_report", gid=report["id"]).version == 2
        assert Product.objects.get(pk=listed.pk).quality_grade == ""
        again = client.post(f"{REPORTS}{report['id']}/withdraw/", {"reason": "再次"}, format="json")
        assert again.status_code == 409 and _code(again) == "already_withdrawn"

    def test_anyone_but_the_issuer_gets_403(self, alice_api, bob_api, listed, qa):
        _, client = qa
        report = client.post(_url(listed.code), body(), format="json").json()
        _, other = assessor()
        for intruder in (other, alice_api, bob_api):
            response = intruder.post(
                f"{REPORTS}{report['id']}/withdraw/", {"reason": "不是我的"}, format="json"
            )
            assert response.status_code == 403 and _code(response) == "not_issuer"
        by_exchange = alice_api.post(_url(listed.code), body(), format="json").json()
        response = client.post(f"{REPORTS}{by_exchange['id']}/withdraw/", {"reason": "x"}, format="json")
        assert response.status_code == 403 and _code(response) == "not_issuer"
        assert (
            alice_api.post(
                f"{REPORTS}{by_exchange['id']}/withdraw/", {"reason": "x"}, format="json"
            ).status_code
            == 200
        )

    def test_a_withdrawal_needs_a_reason(self, listed, qa):
        _, client = qa
        report = client.post(_url(listed.code), body(), format="json").json()
        response = client.post(f"{REPORTS}{report['id']}/withdraw/", {"reason": "   "}, format="json")
        assert response.status_code == 400

    def test_a_newer_report_of_the_same_assessor_supersedes_the_older(self, anon, alice_api, listed, qa):
        _, client = qa
        today = timezone.localdate()
        older = client.post(
            _url(listed.code),
            body(score=95, assessed_at=(today - dt.timedelta(days=10)).isoformat()),
            format="json",
        ).json()
        newer = client.post(_url(listed.code), body(score=65), format="json").json()
        by_exchange = alice_api.post(_url(listed.code), body(score=80), format="json").json()
        latest = anon.get(_url(listed.code)).json()
        assert {r["id"] for r in latest["results"]} == {newer["id"], by_exchange["id"]}
        every = {r["id"]: r["state"] for r in anon.get(_url(listed.code), {"all": "true"}).json()["results"]}
        assert every == {older["id"]: "superseded", newer["id"]: "valid", by_exchange["id"]: "valid"}
        assert anon.get(f"{REPORTS}{older['id']}/").json()["state"] == "superseded"
        # the best valid grade: the exchange's B, not the superseded A
        assert Product.objects.get(pk=listed.pk).quality_grade == "B"

    def test_the_list_refuses_a_bad_all_and_404s_an_unknown_product(self, anon, listed):
        assert anon.get(_url(listed.code), {"all": "maybe"}).status_code == 400
        assert anon.get(_url("SHDEX-2026-999999-X")).status_code == 404


def test_the_product_shows_its_valid_reports_and_grade(anon, alice_api, listed, qa):
    _, client = qa
    client.post(_url(listed.code), body(score=91), format="json")
    alice_api.post(_url(listed.code), body(score=62), format="json")
    detail = anon.get(f"{PRODUCTS}{listed.code}/").json()
    assert detail["quality_grade"] == "A"
    assert [(r["grade"], r["assessor_id"]) for r in detail["quality_reports"]] == [
        ("A", qa[0]),
        ("C", "SHDEX"),
    ]
    listing = anon.get(PRODUCTS).json()["results"]
    assert {p["code"]: p["quality_grade"] for p in listing}[listed.code] == "A"


def test_the_version_history_marks_the_reports_about_each_version(anon, alice_api, listed, qa):
    _, client = qa
    first = client.post(_url(listed.code), body(score=91, product_version=1), format="json").json()
    client.post(f"{REPORTS}{first['id']}/withdraw/", {"reason": "改评"}, format="json")
    latest = alice_api.post(_url(listed.code), body(score=70), format="json").json()
    # the product's exchange sees every version (outsiders: those in which it was public)
    versions = alice_api.get(f"{PRODUCTS}{listed.code}/versions/").json()["results"]
    history = {v["version"]: v["quality_reports"] for v in versions}
    assert [(r["id"], r["status"], r["grade"]) for r in history[1]] == [(first["id"], "withdrawn", "A")]
    assert [(r["id"], r["assessor_id"]) for r in history[listed.version]] == [(latest["id"], "SHDEX")]
    one = anon.get(f"{PRODUCTS}{listed.code}/versions/{listed.version}/").json()
    assert [r["id"] for r in one["quality_reports"]] == [latest["id"]]
