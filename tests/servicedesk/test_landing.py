import pytest
from django.urls import reverse

from tests.factories import TouchpointFactory, UserFactory


@pytest.mark.django_db
def test_manager_lands_on_the_dashboard_and_sees_the_practice(manager_client):
    TouchpointFactory(name="Front desk — Riverside")
    response = manager_client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "Front desk — Riverside" in response.content.decode()


@pytest.mark.django_db
def test_staff_member_lands_on_my_work(staff_client):
    response = staff_client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("my_work")
    assert "Practice managers" in response.content.decode()


@pytest.mark.django_db
def test_an_account_without_a_role_is_refused_with_an_explanation(client):
    client.force_login(UserFactory(role=None))
    response = client.get("/")
    assert response.status_code == 403
    assert "no role yet" in response.content.decode()


@pytest.mark.django_db
def test_staff_cannot_open_the_dashboard(staff_client):
    assert staff_client.get(reverse("dashboard")).status_code == 403


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
