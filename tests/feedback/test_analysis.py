import pytest

from feedback.analysis import ThemeMatcher, keyword_pattern, sentiment
from feedback.models import Theme
from tests.factories import ThemeFactory


def test_blank_text_has_no_sentiment():
    assert sentiment("   ") is None


def test_an_angry_comment_scores_strongly_negative_and_praise_positive():
    assert sentiment("Terrible. The receptionist was rude and nobody cared, awful service.") <= -0.5
    assert sentiment("Lovely staff, the doctor was kind and explained everything.") >= 0.5


def test_spanish_comments_get_a_usable_sentiment():
    assert sentiment("El personal fue muy amable, excelente atención") >= 0.5
    assert sentiment("Pésimo servicio, la recepcionista fue grosera") <= -0.5
    assert sentiment("No fue amable") < 0  # Spanish negation flips the word after it


@pytest.mark.parametrize(
    ("keywords", "text", "found"),
    [
        (["wait*"], "We waited an hour", True),
        (["wait"], "We waited an hour", False),
        (["bill"], "Nobody explained the billion steps", False),
        (["bill"], "The BILL was wrong", True),
        (["car park"], "The car   park was full", True),
        (["the app"], "the appointment was fine", False),
        (["esper*"], "Demasiada espera", True),
    ],
)
def test_theme_keywords_match_whole_words_unless_they_end_with_a_star(keywords, text, found):
    assert bool(keyword_pattern(keywords).search(text)) is found


@pytest.mark.django_db
def test_the_starting_themes_are_there_for_a_new_practice():
    names = set(Theme.objects.values_list("name", flat=True))
    assert {"Wait time", "Phone", "Staff attitude", "Billing", "Premises and parking"} <= names
    assert len(names) == 10


@pytest.mark.django_db
def test_comments_are_tagged_with_every_active_theme_they_mention():
    wait = Theme.objects.get(name="Wait time")
    attitude = Theme.objects.get(name="Staff attitude")
    ThemeFactory(name="Retired", keywords="rude*", is_active=False)
    matched = ThemeMatcher.active().match("Waited 40 minutes and the receptionist was rude.")
    assert {wait.pk, attitude.pk} <= matched
    assert Theme.objects.get(name="Retired").pk not in matched
