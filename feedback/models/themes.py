"""Themes: what patients talk about, with the keywords that tag a comment."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from servicedesk.models import TimeStamped

# --- Themes -----------------------------------------------------------------------------------


class ThemeQuerySet(models.QuerySet):
    def active(self) -> ThemeQuerySet:
        return self.filter(is_active=True)


class Theme(TimeStamped):
    """A topic patients talk about; comments mentioning one of its keywords are tagged with it."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    keywords = models.TextField(
        _("keywords and phrases"),
        help_text=_(
            "One per line. A comment containing any of them (whole words, any case) gets this theme. "
            "End a word with * to match any ending: wait* finds waiting and waited. Start a line with - for "
            "a phrase that does not count: -waiting room. Add Spanish words too."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = ThemeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def keyword_list(self) -> list[str]:
        return [line.strip().lower() for line in self.keywords.splitlines() if line.strip()]
