"""Spanish for patients: the committed catalogue is compiled, complete for patient pages, and used.

The compiled .mo is committed with its .po so that installing and testing need no gettext
tools; these tests catch a .po edited without recompiling.
"""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import QuestionFactory, SurveyFactory

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES"
PATIENT_TEMPLATES = Path(settings.BASE_DIR) / "templates" / "feedback" / "answer"


def _po_entries(path: Path) -> dict[str, str]:
    """msgid -> first msgstr, for the translated entries of a .po file (enough for our own catalogue)."""
    entries, current, field = {}, {}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?|msgstr\[\d\])\s+"(.*)"$', line)
        if match:
            field = match.group(1)
            current[field] = current.get(field, "") + match.group(2)
        elif line.startswith('"') and field:
            current[field] += line[1:-1]
        elif not line.strip():
            msgid = current.get("msgid", "").replace('\\"', '"')
            msgstr = (current.get("msgstr") or current.get("msgstr[0]") or "").replace('\\"', '"')
            if msgid and msgstr:
                entries[msgid] = msgstr
            current, field = {}, None
    return entries


def test_the_compiled_spanish_catalogue_matches_its_source():
    po = _po_entries(CATALOGUE / "django.po")
    with (CATALOGUE / "django.mo").open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    assert po, "the Spanish catalogue has no translations"
    stale = {msgid for msgid, msgstr in po.items() if mo.gettext(msgid) != msgstr}
    assert not stale, (
        f"django.mo is older than django.po; run msgfmt (or compilemessages): {sorted(stale)[:5]}"
    )


def test_every_string_on_the_patient_pages_has_a_spanish_translation():
    po = _po_entries(CATALOGUE / "django.po")
    used = {
        text
        for template in PATIENT_TEMPLATES.glob("*.html")
        for text in re.findall(r'{% translate "([^"]+)" %}', template.read_text(encoding="utf-8"))
    }
    patient_only = used - {
        "Preview: this is exactly what people see. Answers sent from here are checked but not saved.",
        "These answers would have been accepted.",
        "Back to the survey builder",
        "Back to My work",
    }
    missing = sorted(text for text in patient_only if text not in po)
    assert not missing, f"add Spanish for: {missing}"


@pytest.mark.django_db
def test_a_spanish_speaking_patient_sees_the_whole_page_in_spanish(client):
    survey = SurveyFactory(slug="s", is_anonymous=False)
    question = QuestionFactory(survey=survey, kind="fft", required=True)
    page = client.get("/k/s/?lang=es").content.decode()
    for spanish in ("Enviar mis respuestas", "Muy buena", "Ni buena ni mala", "No lo sé", "obligatoria"):
        assert spanish in page
    invalid = client.post("/k/s/", {"lang": "es", "started": "", f"q{question.pk}": ""})
    assert "Hay un problema" in invalid.content.decode()
    assert "Por favor, responda a esta pregunta." in invalid.content.decode()


@pytest.mark.django_db
def test_the_neutral_link_page_follows_the_browser_language(client):
    page = client.get("/f/unknown.token/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Este enlace no se puede usar" in page
