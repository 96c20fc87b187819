"""Roles are Django groups, created by data migrations. One place decides who may do what.

A group of sites has two kinds of manager: a manager ("Managers", the group's) manages every site
and the settings they share; a site manager manages only their own sites (their usual location and
those they also cover) and is otherwise staff. Staff belong to sites (``servicedesk.access``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MANAGER = "Managers", _("Manager")
    SITE_MANAGER = "Site managers", _("Site manager")
    STAFF = "Staff", _("Staff")
