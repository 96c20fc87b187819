import pytest


@pytest.mark.django_db
def test_health_is_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_health_with_the_broker_down_is_200_and_degraded_because_patient_pages_still_work(
    client, broker_down
):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "broker": "degraded"}


def test_health_with_the_database_down_is_503(client, database_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert response.json()["status"] == "down"


@pytest.mark.django_db
def test_health_needs_no_login_and_only_answers_get(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.redis
def test_health_reaches_the_real_redis_broker(client, redis_url, db):
    from servicedesk.celery import app

    assert app.conf.broker_url.startswith("redis://")
    assert client.get("/healthz").json()["broker"] == "ok"
