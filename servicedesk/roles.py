"""Roles are Django groups, created by a data migration. One place decides who may do what."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MANAGER = "Managers", _("Manager")
    STAFF = "Staff", _("Staff")
