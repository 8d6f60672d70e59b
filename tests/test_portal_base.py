"""The portal's foundation (docs/portal.md): Home at /, the strict Content-Security-Policy, the language
(Accept-Language, the switch, the API untouched), sessions for operators and participant users with CSRF,
static files served by the node."""

import pytest
from django.test import Client

from accounts.models import User
from tests.conftest import EXAMPLE_DESCRIPTOR
from tests.portal_helpers import assert_accessible, assert_portal_page, html, signed_in

PASSWORD = "portal-Pa55word!"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def operator(db) -> User:
    user = User.objects.create(username="carol", role=User.Role.OPERATOR, exchange_id="SHDEX")
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def merchant(db) -> User:
    """The example provider's user (registered and verified at this node by conftest)."""
    user = User.objects.create(
        username="merchant-1",
        role=User.Role.PARTICIPANT,
        participant_id=EXAMPLE_DESCRIPTOR["provider"]["uscc"],
    )
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.mark.django_db
def test_home_is_the_portal_in_chinese_with_a_strict_policy():
    response = Client().get("/")
    assert response.status_code == 200
    page = assert_portal_page(response)
    assert '<html lang="zh-hans">' in page and "数据交易机构互认互通" in page
    assert 'href="#main"' in page and 'id="main"' in page  # the skip link and its target
    assert "上海数据交易所" in page and "SHDEX" in page  # the footer names the node
    assert "/static/portal/vendor/htmx-2.0.11.min.js" in page
    assert response["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_accept_language_english_gives_english_pages():
    page = html(Client().get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9"))
    assert '<html lang="en">' in page and "Data Exchange Mutual Recognition" in page
    assert "Shanghai Data Exchange" in page and "Sign in" in page
    assert "数据交易机构互认互通" not in page


@pytest.mark.django_db
def test_the_language_switch_is_a_post_with_csrf_and_sticks():
    client = Client(enforce_csrf_checks=True)
    page = html(client.get("/"))
    assert 'action="/i18n/setlang/"' in page and 'name="csrfmiddlewaretoken"' in page
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 403  # no token
    token = client.cookies["csrftoken"].value
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token})
    assert switched.status_code == 302 and switched["Location"] == "/"
    assert "Sign in" in html(client.get("/")) and "登录" not in html(client.get("/login/"))


@pytest.mark.django_db
def test_the_api_keeps_its_language_and_its_policy_whatever_the_request_asks(anon):
    from core.middleware import OTHER_POLICY

    response = anon.get("/api/v1/products/NOPE-2026-000001-X/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404 and response["Content-Security-Policy"] == OTHER_POLICY
    assert response.json()["error"]["message"] == "资源不存在"
    assert "Content-Language" not in response


@pytest.mark.django_db
def test_static_files_come_from_the_node():
    client = Client()
    for path in (
        "/static/portal/portal.css",
        "/static/portal/vendor/htmx-2.0.11.min.js",
        "/static/portal/vendor/chart-4.6.2.umd.min.js",
        "/static/portal/portal.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"sourceMappingURL" not in body, path  # no map the node does not serve


@pytest.mark.django_db
def test_an_operator_signs_in_and_out(operator):
    client = Client(enforce_csrf_checks=True)
    form = html(client.get("/login/?next=/"))
    assert (
        'for="id_username"' in form
        and 'for="id_password"' in form
        and 'autocomplete="current-password"' in form
    )
    token = client.cookies["csrftoken"].value
    refused = client.post("/login/", {"username": "carol", "password": PASSWORD})
    assert refused.status_code == 403  # CSRF
    done = client.post(
        "/login/", {"username": "carol", "password": PASSWORD, "next": "/", "csrfmiddlewaretoken": token}
    )
    assert done.status_code == 302 and done["Location"] == "/"
    page = html(client.get("/"))
    assert "carol" in page and 'action="/logout/"' in page and 'href="/console/operator/"' in page
    token = client.cookies["csrftoken"].value
    assert client.get("/logout/").status_code == 405  # only a POST (with CSRF) signs out
    assert client.post("/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert "carol" not in html(client.get("/"))


@pytest.mark.django_db
def test_a_participant_user_signs_in_with_its_participant_credentials(merchant):
    client = Client()
    done = client.post("/login/", {"username": "merchant-1", "password": PASSWORD, "next": "/"})
    assert done.status_code == 302
    page = html(client.get("/"))
    assert "merchant-1" in page and EXAMPLE_DESCRIPTOR["provider"]["name"] in page


@pytest.mark.django_db
def test_a_wrong_password_keeps_the_username_and_says_why(operator):
    response = Client().post("/login/", {"username": "carol", "password": "wrong"})
    assert response.status_code == 401
    page = assert_portal_page(response)
    assert 'value="carol"' in page and "登录失败" in page and 'role="alert"' in page
    english = Client().post("/login/", {"username": "carol", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign-in failed" in html(english)


@pytest.mark.django_db
def test_a_missing_field_is_named_next_to_it_with_the_apis_error(operator):
    response = Client().post("/login/", {"username": "carol", "password": ""})
    assert response.status_code == 400
    page = html(response)
    assert 'id="id_password_errors"' in page and 'aria-invalid="true"' in page
    assert 'aria-describedby="id_password_errors"' in page
    assert "不能为空" in page  # DRF's own Chinese, as the API's `message` gives it
    english = html(Client().post("/login/", {"username": "carol", "password": ""}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "This field may not be blank." in english


@pytest.mark.django_db
def test_a_next_to_another_host_is_not_followed(operator):
    done = Client().post(
        "/login/", {"username": "carol", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert done.status_code == 302 and done["Location"] == "/"


@pytest.mark.django_db
def test_a_participant_whose_registration_is_suspended_is_signed_out(merchant):
    from participants.models import Participant
    from participants.services import participant_set_status

    client = signed_in(merchant)
    assert "merchant-1" in html(client.get("/"))
    participant = Participant.objects.get(participant_id=merchant.participant_id)
    participant_set_status(actor=None, participant=participant, status="suspended", reason="测试")
    assert "merchant-1" not in html(client.get("/"))
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_changed_password_ends_the_portal_session(merchant):
    client = signed_in(merchant)
    User.objects.filter(pk=merchant.pk).update(token_generation=merchant.token_generation + 1)
    assert "merchant-1" not in html(client.get("/"))


@pytest.mark.django_db
def test_sign_in_attempts_are_throttled_like_the_admins(operator, settings):
    from api.throttling import AdminLoginThrottle

    client = Client()
    rate = AdminLoginThrottle().get_rate()
    count = int(rate.split("/")[0])
    for _ in range(count):
        client.post("/login/", {"username": "carol", "password": "wrong"})
    response = client.post("/login/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 429 and "过于频繁" in html(response)


def test_the_accessibility_check_refuses_an_unnamed_control_and_a_page_without_one_h1():
    named = (
        '<html><h1>页</h1><label for="q">搜索</label><input id="q" name="q">'
        '<input type="hidden" name="t"></html>'
    )
    assert_accessible(named)
    assert_accessible(
        '<form><label>名称 <input name="name"></label><select aria-label="排序"></select></form>'
    )
    with pytest.raises(AssertionError, match="controls without a label"):
        assert_accessible('<form><input name="name"><label for="other">x</label></form>')
    with pytest.raises(AssertionError, match="one h1 per page"):
        assert_accessible("<html><h1>a</h1><h1>b</h1></html>")
