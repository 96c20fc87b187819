"""Errors are explained to people in plain words, and never show a stack trace."""

import pytest
from django.urls import path

from servicedesk.urls import urlpatterns as real_urlpatterns


def boom(request):
    raise RuntimeError("secret internals")


urlpatterns = [*real_urlpatterns, path("boom/", boom)]
handler500 = "servicedesk.views.server_error"


@pytest.mark.django_db
def test_a_database_outage_gives_the_friendly_503_page(client, staff, request):
    client.force_login(staff)
    client.raise_request_exception = False
    request.getfixturevalue("database_down")
    response = client.get("/my-work/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "We're back in a moment" in body
    assert "Traceback" not in body
    assert "OperationalError" not in body
    assert response["Retry-After"] == "30"


@pytest.mark.django_db
def test_an_unknown_page_gets_the_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We can't find that page" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls("tests.servicedesk.test_errors")
def test_an_unexpected_error_gets_the_friendly_500_without_internals(client, settings, manager):
    client.raise_request_exception = False
    client.force_login(manager)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Sorry, something went wrong" in body
    assert "secret internals" not in body
