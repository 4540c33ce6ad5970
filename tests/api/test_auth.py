"""Keys, scopes, networks, rate limits and the audit of every call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from api import services, throttling
from api.models import ApiKey, Scope
from core.audit import Actor
from core.models import AuditEvent
from tests.api.conftest import assert_problem
from tests.conftest import needs_redis

pytestmark = pytest.mark.django_db
CHECK = "/api/v1/consent/check"
QUERY = {"purpose": "marketing_products", "email": "nobody@example.no"}
DPO = Actor.system("test")


def test_a_key_is_stored_only_as_a_hash(caller):
    key = ApiKey.objects.get(client=caller.api_client)
    prefix, secret = caller.key.split(".")
    assert key.prefix == prefix
    assert secret not in key.hashed_key and caller.key not in key.hashed_key
    assert key.hashed_key.startswith("sha512$$")


def test_a_call_with_the_scope_is_answered_and_audited_with_the_client_as_actor(make_caller):
    caller = make_caller([Scope.CONSENT_CHECK])
    response = caller.get(CHECK, QUERY)
    assert response.status_code == 200
    assert response.json() == {"allowed": False, "basis": None}
    event = AuditEvent.objects.filter(action="api.consent_check").get()
    assert event.actor_kind == AuditEvent.ActorKind.API_CLIENT
    assert event.actor_id == str(caller.api_client.pk)
    caller.api_client.refresh_from_db()
    assert caller.api_client.last_used_at is not None


def test_a_client_without_the_scope_is_refused(make_caller):
    caller = make_caller([Scope.CONTACTS_WRITE])
    body = assert_problem(caller.get(CHECK, QUERY), 403, "forbidden")
    assert "consent:check" in body["detail"]


def test_no_key_a_wrong_key_and_a_malformed_key_are_401(caller):
    anonymous = Client(headers={"Accept-Language": "en"})
    response = anonymous.get(CHECK, QUERY)
    assert_problem(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Api-Key")
    prefix = caller.key.split(".")[0]
    assert_problem(anonymous.get(CHECK, QUERY, headers={"Authorization": f"Api-Key {prefix}.wrong"}), 401)
    assert_problem(anonymous.get(CHECK, QUERY, headers={"Authorization": "Api-Key nodot"}), 401)
    assert_problem(anonymous.get(CHECK, QUERY, headers={"Authorization": "Bearer x.y"}), 401)


def test_a_revoked_client_is_refused_at_once(caller):
    assert caller.get(CHECK, QUERY).status_code == 200
    services.api_client_revoke(client=caller.api_client, actor=DPO)
    body = assert_problem(caller.get(CHECK, QUERY), 401, "unauthenticated")
    assert "revoked" in body["detail"]


def test_a_revoked_key_is_refused_and_the_others_still_work(caller):
    _new, second = services.api_key_issue(client=caller.api_client, actor=DPO)
    services.api_key_revoke(key=ApiKey.objects.get(prefix=caller.key.split(".")[0]), actor=DPO)
    assert_problem(caller.get(CHECK, QUERY), 401)
    caller.key = second
    assert caller.get(CHECK, QUERY).status_code == 200


def test_an_expired_client_is_refused(make_caller):
    caller = make_caller(expires_at=timezone.now() + timedelta(seconds=1))
    assert caller.get(CHECK, QUERY).status_code == 200
    caller.api_client.expires_at = timezone.now() - timedelta(seconds=1)
    caller.api_client.save()
    body = assert_problem(caller.get(CHECK, QUERY), 401)
    assert "expired" in body["detail"]


def test_rotation_keeps_the_old_key_for_the_overlap_then_refuses_it(caller, time_machine):
    old = caller.key
    _key, new = services.api_key_rotate(client=caller.api_client, actor=DPO, overlap=timedelta(hours=1))
    assert caller.get(CHECK, QUERY).status_code == 200
    caller.key = new
    assert caller.get(CHECK, QUERY).status_code == 200
    time_machine.move_to(timezone.now() + timedelta(hours=2))
    assert caller.get(CHECK, QUERY).status_code == 200
    caller.key = old
    assert_problem(caller.get(CHECK, QUERY), 401)


def test_a_call_from_outside_the_allowed_networks_is_refused(make_caller):
    caller = make_caller(allowed_networks=["10.0.0.0/8"])
    assert_problem(caller.get(CHECK, QUERY, REMOTE_ADDR="192.0.2.1"), 403, "forbidden")
    assert caller.get(CHECK, QUERY, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_over_the_rate_limit_is_429_with_retry_after(make_caller):
    caller = make_caller(rate_limit=3)
    for _ in range(3):
        assert caller.get(CHECK, QUERY).status_code == 200
    response = caller.get(CHECK, QUERY)
    assert_problem(response, 429, "rate-limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another client has its own budget.
    other = caller.__class__(*services.api_client_create(
        actor=DPO, name="other", owner=caller.api_client.owner, scopes=[Scope.CONSENT_CHECK]
    ), Client())  # fmt: skip
    assert other.get(CHECK, QUERY).status_code == 200


def test_an_unknown_address_under_the_api_is_a_problem_document(caller):
    assert_problem(caller.get("/api/v1/nothing-here"), 404, "not-found")
    assert_problem(Client().get("/api/v2/whatever"), 404, "not-found")


def test_a_wrong_method_is_405(caller):
    assert_problem(caller.http.delete(CHECK, headers={"Authorization": f"Api-Key {caller.key}"}), 405)


def test_the_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/consent/check" in schema.content
    for page in ("/api/docs/", "/api/redoc/"):
        html = client.get(page).content.decode()
        assert "cdn." not in html and "jsdelivr" not in html and "unpkg" not in html
        assert "/static/drf_spectacular_sidecar/" in html


def test_problems_speak_bokmal_unless_english_is_asked_for(make_caller):
    caller = make_caller([Scope.CONTACTS_WRITE])
    body = assert_problem(caller.get(CHECK, QUERY, headers={"Accept-Language": "nb"}), 403)
    assert body["title"] == "Ikke tillatt" and "mangler tilgangen consent:check" in body["detail"]
    body = assert_problem(caller.get(CHECK, QUERY), 403)
    assert body["title"] == "Not allowed"


@needs_redis
def test_the_count_is_one_expiring_counter_in_redis_that_every_process_reads(make_caller):
    """What a second web process sees is the counter in Redis, not anything in this process."""
    caller = make_caller(rate_limit=5)
    for _ in range(2):
        assert caller.get(CHECK, QUERY).status_code == 200
    backend = caches["default"]
    redis = backend._cache.get_client(None)
    [counter] = redis.keys(backend.make_key(f"api:rate:{caller.api_client.pk}:*"))
    assert int(redis.get(counter)) == 2
    assert 0 < redis.ttl(counter) <= throttling.COUNTER_TTL
    redis.set(counter, 5, keepttl=True)  # the other process's calls
    assert_problem(caller.get(CHECK, QUERY), 429, "rate-limited")


def test_the_rate_limit_holds_on_a_cache_without_redis(make_caller, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    caller = make_caller(rate_limit=2)
    assert [caller.get(CHECK, QUERY).status_code for _ in range(3)] == [200, 200, 429]


def test_the_schema_generates_without_a_warning(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", file=str(tmp_path / "schema.yaml"), fail_on_warn=True, validate=True)
    assert "ApiKey" in (tmp_path / "schema.yaml").read_text()
