"""Feedback at one site of a group (issue 19): which surveys a site manager sees and may change,
and which survey is in force at a site.

The group sets surveys for every site (``Survey.location`` empty); a site may have its own. A
site manager sees the group's surveys and their own sites' ones, reads only answers and
invitations from their sites, and changes only their sites' surveys. A site's own active survey
for the same purpose as a group survey takes the group survey's place at that site, for the
invitations made there and on its kiosks and posters (``survey_in_force``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from feedback.models import Survey
from servicedesk.models import User


def surveys_seen_by(user: User, surveys: QuerySet[Survey] | None = None) -> QuerySet[Survey]:
    """The surveys ``user`` manages or reads: every one for the group's managers; for a site
    manager the group's surveys and those of their own sites (never another site's)."""
    surveys = Survey.objects.all() if surveys is None else surveys
    sites = user.managed_site_ids
    if sites is None:
        return surveys
    return surveys.filter(Q(location__isnull=True) | Q(location__in=sites))


def get_survey_for_user(user: User, pk: int, surveys: QuerySet[Survey] | None = None) -> Survey:
    """The survey, if this person may read its results: another site's is a 404, as if it did not exist."""
    return get_object_or_404(surveys_seen_by(user, surveys), pk=pk)


def get_survey_to_manage(user: User, pk: int, surveys: QuerySet[Survey] | None = None) -> Survey:
    """The survey, if this person may change it: the group's managers any survey, a site manager
    their own sites' (the group's surveys are for every site, so not theirs to change)."""
    survey = get_survey_for_user(user, pk, surveys)
    if not user.manages_site(survey.location_id):
        raise PermissionDenied(
            _(
                "This survey is the group's (or another site's): ask one of the group's managers "
                "to change it, or make your site's own."
            )
        )
    return survey


def home_site(user: User) -> int:
    """The site a site manager's pages show when they name none: their usual one, else their first."""
    sites = user.managed_site_ids
    if not sites:
        raise PermissionDenied(_("You manage no site yet: ask one of the group's managers to add yours."))
    return user.location_id if user.location_id in sites else min(sites)


def with_site_chosen(user: User, data, field: str = "location"):
    """A site manager's filter always names one of their sites: a copy of the query string with
    their home site filled in when it names none. The form then refuses any other (400)."""
    if user.managed_site_ids is None:
        return data
    data = data.copy()
    if not data.get(field):
        data[field] = str(home_site(user))
    return data


# --- The survey in force at a site -----------------------------------------------------------------


def _purpose(survey: Survey) -> tuple[str, object]:
    """What a patient survey is for: one touchpoint's channel (phone, in person, …), or any visit
    (no touchpoint). A site's survey for the phone line overrides the group's phone survey."""
    if survey.touchpoint_id is None:
        return ("any", None)
    return ("channel", survey.touchpoint.channel)


def _candidates(survey: Survey) -> QuerySet[Survey]:
    """Sites' own surveys that could take the group survey ``survey``'s place (none for a site's
    survey or a staff pulse): active, for patients, for the same purpose (``_purpose``)."""
    if survey.location_id is not None or survey.audience != Survey.Audience.PATIENT:
        return Survey.objects.none()
    kind, channel = _purpose(survey)
    candidates = (
        Survey.objects.active()
        .for_patients()
        .filter(location__isnull=False)
        .select_related("location", "touchpoint__location")
        .order_by("-created_at", "-pk")
    )
    if kind == "any":
        return candidates.filter(touchpoint__isnull=True)
    return candidates.filter(touchpoint__channel=channel)


def _choose(survey: Survey, candidates: QuerySet[Survey]) -> dict[int, Survey]:
    """One survey per site: the one for the very same touchpoint first, then the newest."""
    chosen: dict[int, Survey] = {}
    for candidate in candidates:
        current = chosen.get(candidate.location_id)
        exact = candidate.touchpoint_id == survey.touchpoint_id
        if current is None or (exact and current.touchpoint_id != survey.touchpoint_id):
            chosen[candidate.location_id] = candidate
    return chosen


def overrides(survey: Survey) -> dict[int, Survey]:
    """For a group survey: each site's own survey that takes its place there, by site id (one
    query, for a visit list of many sites)."""
    return _choose(survey, _candidates(survey))


def survey_in_force(survey: Survey, *, location_id: int | None) -> Survey:
    """The survey in force at this site for this survey's touchpoint: the site's own when it has
    one for the same purpose, else ``survey`` itself (one query). Invitations (``overrides``, for
    a whole visit list) and the kiosk choose through here."""
    if location_id is None:
        return survey
    return _choose(survey, _candidates(survey).filter(location_id=location_id)).get(location_id, survey)
