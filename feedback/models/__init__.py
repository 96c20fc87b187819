"""The feedback app's models, one module per concern; the app label stays ``feedback``.

Survey texts are stored per language on the rows themselves (``title`` / ``title_es``,
``text`` / ``text_es`` ...): a manager edits them in the builder, so they cannot live in
gettext catalogues. ``localized(obj, "text", language)`` picks the right one, falling back
to English when a translation is missing.
"""

from feedback.models.invitations import (
    Invitation,
    InvitationQuerySet,
    _token_mac,
    new_selector,
)
from feedback.models.responses import (
    Answer,
    Response,
    ResponseQuerySet,
    ThemeMention,
)
from feedback.models.rollup import AnswerDay, AnswerMonth, ResultsDay, RollupDay, ThemeDay
from feedback.models.sending import (
    IntegrationToken,
    IntegrationTokenQuerySet,
    InvitationImport,
    InvitationMessage,
    InvitationMessageQuerySet,
    InvitationRules,
    Suppression,
)
from feedback.models.surveys import (
    LANGUAGE_CODES,
    LANGUAGES,
    Question,
    QuestionQuerySet,
    Survey,
    SurveyQuerySet,
    default_languages,
    localized,
)
from feedback.models.themes import (
    Theme,
    ThemeQuerySet,
)

__all__ = [
    "LANGUAGES",
    "LANGUAGE_CODES",
    "Answer",
    "AnswerDay",
    "AnswerMonth",
    "IntegrationToken",
    "IntegrationTokenQuerySet",
    "Invitation",
    "InvitationImport",
    "InvitationMessage",
    "InvitationMessageQuerySet",
    "InvitationQuerySet",
    "InvitationRules",
    "Question",
    "QuestionQuerySet",
    "Response",
    "ResponseQuerySet",
    "ResultsDay",
    "RollupDay",
    "Suppression",
    "Survey",
    "SurveyQuerySet",
    "Theme",
    "ThemeDay",
    "ThemeMention",
    "ThemeQuerySet",
    "_token_mac",
    "default_languages",
    "localized",
    "new_selector",
]
