"""Adding adoption (delivery 0009) keeps every checklist as it was: each one the group's or its site's own,
none a site's copy, every item the checklist's own."""

from __future__ import annotations

import pytest

from delivery.models import ChecklistItem, ChecklistTemplate
from tests.migrating import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_checklist_and_item_is_kept_and_none_becomes_a_sites_copy():
    old = migrate([("delivery", "0008_site_manager_role")])
    try:
        site = old.get_model("servicedesk", "Location").objects.create(name="Ashford")
        template = old.get_model("delivery", "ChecklistTemplate")
        item = old.get_model("delivery", "ChecklistItem")
        group = template.objects.create(title="Phone line", slug="phone-line", dimension="process")
        own = template.objects.create(title="Front desk", slug="front-desk", dimension="place", location=site)
        for checklist in (group, own):
            item.objects.create(template=checklist, order=1, text="Ready")
        before = sorted(template.objects.values_list("pk", "title", "slug", "location_id"))
    finally:
        migrate_to_latest()

    assert sorted(ChecklistTemplate.objects.values_list("pk", "title", "slug", "location_id")) == before
    assert not ChecklistTemplate.objects.filter(group_template__isnull=False).exists()
    assert ChecklistItem.objects.filter(group_item__isnull=True).count() == 2
