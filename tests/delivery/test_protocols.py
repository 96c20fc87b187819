"""Protocols: versioned Markdown documents, rendered safely, with review dates managers see."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery import services
from delivery.models import Protocol
from delivery.templatetags.delivery_tags import render_markdown
from tests.factories import ChecklistTemplateFactory

pytestmark = pytest.mark.django_db


class ElementCollector(HTMLParser):
    """Every element the browser would build from the HTML, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs) -> None:
        self.elements.append((tag, attrs))

    def handle_data(self, data) -> None:
        self.text += data


@pytest.fixture
def protocol(manager):
    return services.protocol_create(
        title="Answering the phone",
        body="# Answer within five rings\n\n- Greet\n- **Listen**",
        by=manager,
        owner=manager,
        review_by=timezone.localdate() + timedelta(days=90),
    )


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert('x')</script>",
        "<img src=x onerror=alert('x')>",
        "[click](javascript:alert('x'))",
        '<a href="#" onclick="alert(\'x\')">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "<svg onload=alert('x')>",
        "<div style=\"background:url(javascript:alert('x'))\">x</div>",
    ],
)
def test_protocol_markdown_cannot_inject_a_script(attack):
    parser = ElementCollector()
    parser.feed(render_markdown(f"Intro\n\n{attack}\n\nOutro"))
    tags = {tag for tag, _ in parser.elements}
    assert not tags & {"script", "iframe", "svg", "img", "style", "object", "embed"}
    for _tag, attrs in parser.elements:
        for name, value in attrs:
            assert not name.startswith("on")
            assert name != "style"
            assert not (value or "").strip().lower().startswith("javascript:")
    assert "Intro" in parser.text
    assert "Outro" in parser.text


def test_protocol_markdown_keeps_the_formatting_people_need():
    html = render_markdown("## Steps\n\n1. Greet\n2. **Listen**\n\n[Guide](https://nhs.uk/guide)")
    assert "<h2>Steps</h2>" in html
    assert "<ol>" in html
    assert "<strong>Listen</strong>" in html
    assert '<a href="https://nhs.uk/guide" rel="noopener noreferrer nofollow">Guide</a>' in html


def test_a_stored_script_is_not_executable_on_the_protocol_page(staff_client, protocol, manager):
    services.protocol_revise(
        protocol=protocol, body="Hi <script>steal()</script>", change_note="", by=manager
    )
    html = staff_client.get(reverse("delivery:protocol_detail", args=[protocol.pk])).content.decode()
    assert "steal()" not in html


def test_editing_the_text_adds_a_version_and_keeps_the_old_one(manager_client, protocol, manager):
    response = manager_client.post(
        reverse("delivery:protocol_update", args=[protocol.pk]),
        {
            "title": "Answering the phone",
            "owner": manager.pk,
            "review_by": (timezone.localdate() + timedelta(days=365)).isoformat(),
            "is_active": "on",
            "body": "# Answer within three rings",
            "change_note": "Faster answer",
        },
    )
    assert response.status_code == 302
    protocol.refresh_from_db()
    assert [v.number for v in protocol.versions.all()] == [2, 1]
    assert protocol.current_version.number == 2
    old = manager_client.get(reverse("delivery:protocol_version", args=[protocol.pk, 1])).content.decode()
    assert "five rings" in old
    assert "older version" in old


def test_saving_unchanged_text_does_not_add_a_version(protocol, manager):
    assert (
        services.protocol_revise(
            protocol=protocol, body=protocol.current_version.body, change_note="", by=manager
        )
        is None
    )
    assert protocol.versions.count() == 1


def test_a_protocol_needs_its_text(manager_client, manager):
    response = manager_client.post(
        reverse("delivery:protocol_create"),
        {"title": "Empty", "owner": manager.pk, "review_by": "2030-01-01", "body": ""},
    )
    assert response.status_code == 400
    assert "Write the protocol&#x27;s steps." in response.content.decode()
    assert not Protocol.objects.exists()


def test_a_protocol_past_its_review_date_shows_up_for_the_manager(manager_client, protocol):
    Protocol.objects.filter(pk=protocol.pk).update(review_by=timezone.localdate() - timedelta(days=1))
    html = manager_client.get(reverse("delivery:overview")).content.decode()
    assert "Protocols overdue for review" in html
    assert "Answering the phone" in html
    assert "Overdue" in manager_client.get(reverse("delivery:protocol_list")).content.decode()


def test_checklists_refer_to_their_protocol(staff_client, protocol):
    ChecklistTemplateFactory(title="Phone line and voicemail check", protocol=protocol)
    html = staff_client.get(reverse("delivery:protocol_detail", args=[protocol.pk])).content.decode()
    assert "Phone line and voicemail check" in html


def test_protocol_pages_access_matrix(client, staff, protocol):
    urls = [reverse("delivery:protocol_list"), reverse("delivery:protocol_detail", args=[protocol.pk])]
    for url in urls:
        assert client.get(url).status_code == 302
    client.force_login(staff)
    for url in urls:
        assert client.get(url).status_code == 200
    assert client.get(reverse("delivery:protocol_update", args=[protocol.pk])).status_code == 403
