"""A group of sites: a checklist set for the group, adopted by each site (issue 19).

A *group checklist* is a practice-wide ``ChecklistTemplate`` (no location). A site *adopts* it:
``template_adopt`` makes the site its own copy (``group_template`` points back), with a mirror of
each of the group's items (``ChecklistItem.group_item``). The rule for runs, in one sentence:

    A group checklist that no site has adopted makes its one practice-wide run per period; once
    it has adoptions, it makes none, and each adopting site's copy makes that site's run.

"Start a run now" follows the same rule (``services.runs_start_at_adopting_sites``). A copy switched
off, or at a closed site, makes no runs (``ChecklistTemplate.objects.making_runs``). For a checklist
about each team member, ``person_checklists`` says whose it is, for the scheduler and the training
overview alike.

At its site, a copy may set its own due time, who does it, switch itself off and add items of its
own; the group's items stay the group's. When the group changes an item (adds, rewords, moves or
retires one), ``sync_item_*`` makes the same change to every copy, in the same transaction
(services.item_* call them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.utils.text import slugify

from delivery.models import ChecklistItem, ChecklistResult, ChecklistTemplate
from servicedesk.audit import Action, log_action
from servicedesk.models import Location, User

# What a copy takes from the group's checklist when it is made (the site may then change the
# due time and who does it: ADOPTED_OVERRIDES).
COPIED_FIELDS = (
    "title",
    "description",
    "dimension",
    "touchpoint_id",
    "frequency",
    "due_time",
    "responsible_role",
    "protocol_id",
    "service_goal_id",
    "per_person",
    "due_within_days",
    "renew_every_days",
)
ADOPTED_OVERRIDES = ("due_time", "responsible_role", "responsible_person", "is_active")
# What the group's later changes to its checklist's details change in every copy too (the site's
# own due time and who does it stay the site's; switching the group's off switches theirs off).
SYNCED_FIELDS = (
    "title",
    "description",
    "dimension",
    "touchpoint",
    "frequency",
    "protocol",
    "service_goal",
    "per_person",
    "due_within_days",
    "renew_every_days",
)
ITEM_FIELDS = ("order", "text", "guidance", "is_critical", "note_required_on_fail", "is_active")


def is_group_template(template: ChecklistTemplate) -> bool:
    """A checklist sites can adopt: the group's, practice-wide, not itself a site's copy."""
    return template.location_id is None and template.group_template_id is None


def group_templates() -> QuerySet[ChecklistTemplate]:
    """The checklists a site can adopt (every site manager may read them)."""
    return ChecklistTemplate.objects.filter(location__isnull=True, group_template__isnull=True)


@dataclass(frozen=True)
class PersonChecklists:
    """The checklists about each team member that make runs (``templates``, by title), and whose each
    one is: the one rule by which the scheduler makes people's runs and the training overview lists
    their requirements, so the overview never lists one that no run will ever be made for.

    1. Nobody at a closed site has any: the site makes no runs, and its people do not fall back to
       the group's (as for a copy the site switched off).
    2. A site's checklist, its copy of the group's included, is for the people at that site.
    3. A group checklist is for everyone else, except the people at a site that adopted it: their
       site's copy is theirs, even switched off (the site chose no runs).
    """

    templates: list[ChecklistTemplate]
    adopted_at: Mapping[int, frozenset[int]]  # group checklist -> the sites with a copy of it
    closed_sites: frozenset[int]

    def is_for(self, template: ChecklistTemplate, person: User) -> bool:
        site_id = person.location_id
        if site_id in self.closed_sites:
            return False
        if template.location_id is not None:
            return template.location_id == site_id
        return site_id not in self.adopted_at.get(template.pk, ())

    def of(self, person: User) -> list[ChecklistTemplate]:
        return [template for template in self.templates if self.is_for(template, person)]


def person_checklists() -> PersonChecklists:
    """``PersonChecklists`` now, in three queries whatever the number of sites, people and copies."""
    templates = list(ChecklistTemplate.objects.making_runs().filter(per_person=True).order_by("title", "pk"))
    adopted_at: dict[int, set[int]] = {}
    groups = [template for template in templates if template.location_id is None]
    for group_id, site_id in ChecklistTemplate.objects.filter(group_template__in=groups).values_list(
        "group_template_id", "location_id"
    ):
        adopted_at.setdefault(group_id, set()).add(site_id)
    closed = Location.objects.filter(is_active=False).values_list("pk", flat=True)
    return PersonChecklists(
        templates=templates,
        adopted_at={group_id: frozenset(sites) for group_id, sites in adopted_at.items()},
        closed_sites=frozenset(closed),
    )


def _ensure_adoptable(template: ChecklistTemplate) -> None:
    if not is_group_template(template):
        raise ValidationError("Only the group's practice-wide checklists can be adopted by a site.")


def _slugs_for(group: ChecklistTemplate, sites: Iterable[Location]) -> dict[int, str]:
    """A short name per site, unique across every checklist: "<group's>-<site>" (then -2, -3 …)."""
    base = (group.slug or slugify(group.title) or "checklist")[:50]
    taken = set(ChecklistTemplate.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slugs = {}
    for site in sites:
        stem = f"{base}-{slugify(site.name)[:25] or site.pk}"
        slug, n = stem, 2
        while slug in taken:
            slug, n = f"{stem}-{n}", n + 1
        taken.add(slug)
        slugs[site.pk] = slug
    return slugs


def _copy(group: ChecklistTemplate, site: Location, slug: str) -> ChecklistTemplate:
    copy = ChecklistTemplate(group_template=group, location=site, slug=slug, is_active=group.is_active)
    for name in COPIED_FIELDS:
        setattr(copy, name, getattr(group, name))
    # Someone must do it: the group's role, else the group's named person.
    copy.responsible_person_id = None if group.responsible_role else group.responsible_person_id
    return copy


def _mirror(item: ChecklistItem, copy_id: int) -> ChecklistItem:
    mirror = ChecklistItem(template_id=copy_id, group_item=item)
    for name in ITEM_FIELDS:
        setattr(mirror, name, getattr(item, name))
    return mirror


def _adopt_at(group: ChecklistTemplate, sites: list[Location]) -> list[ChecklistTemplate]:
    """Copies of the locked ``group`` at ``sites`` (none of which has one yet), with its items."""
    if not sites:
        return []
    slugs = _slugs_for(group, sites)
    copies = ChecklistTemplate.objects.bulk_create([_copy(group, site, slugs[site.pk]) for site in sites])
    items = list(group.items.active())
    ChecklistItem.objects.bulk_create([_mirror(item, copy.pk) for copy in copies for item in items])
    return copies


@transaction.atomic
def template_adopt(
    *, group_template: ChecklistTemplate, location: Location, by: User, now: datetime
) -> tuple[ChecklistTemplate, bool]:
    """Give ``location`` its copy of ``group_template``; adopting again returns the copy it has.

    The group's row is locked first, so two adoptions at once (a double click, two managers) queue:
    the second finds the first's copy. Returns the site's copy and whether it was made now.
    """
    _ensure_adoptable(group_template)
    if not location.is_active:
        raise ValidationError(f"{location} is closed: it cannot adopt checklists.")
    group = ChecklistTemplate.objects.select_for_update().get(pk=group_template.pk)
    existing = group.site_templates.filter(location=location).first()
    if existing is not None:
        return existing, False
    (copy,) = _adopt_at(group, [location])
    log_action(
        copy,
        Action.CREATED,
        by,
        {"adopted at": ["—", location.name]},
        label=f"the copy at {location} of the group checklist “{group}”",
    )
    return copy, True


@transaction.atomic
def template_adopt_everywhere(*, group_template: ChecklistTemplate, by: User, now: datetime) -> int:
    """Every open site that has not adopted ``group_template`` adopts it now (the group's managers).

    One insert for the copies and one for their items, whatever the number of sites; one audit event
    names how many sites adopted it. Running it again adopts nothing more. Returns how many copies
    were made.
    """
    _ensure_adoptable(group_template)
    group = ChecklistTemplate.objects.select_for_update().get(pk=group_template.pk)
    adopted = group.site_templates.values("location_id")
    sites = list(Location.objects.active().exclude(pk__in=adopted).order_by("name"))
    copies = _adopt_at(group, sites)
    if copies:
        log_action(
            group,
            Action.CREATED,
            by,
            {"adopted at": ["—", f"{len(copies)} sites"]},
            label=f"copies of the group checklist “{group}” at every site",
        )
    return len(copies)


def sync_template_changed(template: ChecklistTemplate, fields: Mapping[str, Any]) -> int:
    """The group changed its checklist's details: its copies take the same (SYNCED_FIELDS)."""
    changes = {name: value for name, value in fields.items() if name in SYNCED_FIELDS}
    if fields.get("is_active") is False:
        changes["is_active"] = False
    return template.site_templates.update(**changes) if changes else 0


# --- Keeping the group's items in step (called by services.item_*, inside their transaction) ------


def sync_item_added(item: ChecklistItem) -> int:
    """The group added ``item``: each copy gets a mirror, after its own last item."""
    lasts = (
        ChecklistTemplate.objects.filter(group_template_id=item.template_id)
        .annotate(last=Max("items__order"))
        .values_list("pk", "last")
    )
    mirrors = []
    for copy_id, last in lasts:
        mirror = _mirror(item, copy_id)
        mirror.order = (last or 0) + 1
        mirrors.append(mirror)
    ChecklistItem.objects.bulk_create(mirrors, ignore_conflicts=True)
    return len(mirrors)


def sync_item_changed(item: ChecklistItem, fields: Mapping[str, Any]) -> int:
    """The group reworded ``item`` (or changed whether it is critical): so do its mirrors."""
    changes = {name: value for name, value in fields.items() if name in ITEM_FIELDS}
    return item.site_items.update(**changes) if changes else 0


def sync_items_moved(group_template_id: int) -> int:
    """The group reordered its items: each mirror takes its group item's place (the site's own items
    keep theirs)."""
    order = ChecklistItem.objects.filter(pk=OuterRef("group_item_id")).values("order")[:1]
    return ChecklistItem.objects.filter(
        group_item__isnull=False, template__group_template_id=group_template_id
    ).update(order=Subquery(order))


def sync_item_retired(item: ChecklistItem) -> str:
    """The group removes ``item``: its mirrors go with it. Rows anyone answered (the group's item or
    a mirror) are archived, so history keeps its wording; otherwise all are deleted.

    Returns "archived" or "deleted", for the group's item as for its mirrors.
    """
    mirrors = item.site_items.all()
    if ChecklistResult.objects.filter(Q(item=item) | Q(item__group_item=item)).exists():
        mirrors.update(is_active=False)
        ChecklistItem.objects.filter(pk=item.pk).update(is_active=False)
        return "archived"
    mirrors.delete()
    item.delete()
    return "deleted"
