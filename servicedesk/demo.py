"""Demo practice: two sites, their touchpoints and a small team; with ``--group N``, a medical
group of N sites, each with its front desk, phone line and site manager. Idempotent.

Every app may have a ``demo.py`` with ``seed(*, options, out)`` (and optionally
``add_arguments(parser)`` and ``after_seed(*, options, out)``, run once every app has
seeded); ``manage.py seed_demo`` runs them in INSTALLED_APPS order.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import time

from django.core.management import call_command
from django.db import transaction

from servicedesk.models import Location, OpeningHours, Touchpoint, User
from servicedesk.roles import Role
from servicedesk.services import _set_role

# Demo only: seed_demo refuses to run in production without --force.
DEMO_PASSWORD = "servicedesk-demo"  # noqa: S105

LOCATIONS = [
    {"name": "Riverside Surgery", "address": "12 River Lane, Riverside", "phone": "01632 960 100"},
    {"name": "Hillcrest Clinic", "address": "3 Hill Road, Hillcrest", "phone": "01632 960 200"},
]

# (name, channel, location name or None for practice-wide)
TOUCHPOINTS = [
    ("Main phone line", Touchpoint.Channel.PHONE, None),
    ("Front desk — Riverside", Touchpoint.Channel.IN_PERSON, "Riverside Surgery"),
    ("Front desk — Hillcrest", Touchpoint.Channel.IN_PERSON, "Hillcrest Clinic"),
    ("Waiting room — Riverside", Touchpoint.Channel.IN_PERSON, "Riverside Surgery"),
    ("Consulting rooms — Riverside", Touchpoint.Channel.IN_PERSON, "Riverside Surgery"),
    ("Patient portal", Touchpoint.Channel.PORTAL, None),
    ("Practice email inbox", Touchpoint.Channel.EMAIL, None),
    ("Appointment SMS", Touchpoint.Channel.SMS, None),
    ("Video consultations", Touchpoint.Channel.VIDEO, None),
]

# Weekday (Monday 0) → (opens, closes): weekdays 8:00-18:30, Saturday morning, closed on Sunday.
OPENING_HOURS = {day: (time(8), time(18, 30)) for day in range(5)} | {5: (time(9), time(12))}

# (username, first, last, role, location name)
TEAM = [
    ("manager", "Maya", "Patel", Role.MANAGER, "Riverside Surgery"),
    ("reception", "Sam", "Okafor", Role.STAFF, "Riverside Surgery"),
    ("nurse", "Lucía", "García", Role.STAFF, "Hillcrest Clinic"),
    ("sitemanager", "Tomasz", "Nowak", Role.SITE_MANAGER, "Hillcrest Clinic"),
]


# A group's other sites: a town and a kind of practice each (40 towns x 5 kinds: up to 202 sites).
TOWNS = [
    "Ashford", "Barnsley", "Bexhill", "Bingley", "Bourne", "Brigg", "Buxton", "Calne", "Chard", "Cromer",
    "Dalton", "Dunstable", "Eastleigh", "Epping", "Frome", "Goole", "Hexham", "Hythe", "Ilkley", "Kendal",
    "Keswick", "Ledbury", "Leek", "Louth", "Ludlow", "Malton", "Marlow", "Morpeth", "Nailsea", "Olney",
    "Penrith", "Redruth", "Ripon", "Romsey", "Selby", "Settle", "Thirsk", "Truro", "Whitby", "Yeovil",
]  # fmt: skip
KINDS = ["Surgery", "Medical Centre", "Health Centre", "Clinic", "Family Practice"]


def group_site_names(count: int) -> list[str]:
    """The names of a demo group's sites beyond the two demo sites, in order."""
    names = [f"{town} {kind}" for kind in KINDS for town in TOWNS]
    return names[: max(0, count - len(LOCATIONS))]


def add_arguments(parser) -> None:
    parser.add_argument(
        "--group",
        type=int,
        default=0,
        metavar="N",
        help="Make the demo a medical group of N sites (up to 202), each with a site manager "
        "(username site-NNN) and its patients' feedback and incidents.",
    )


@transaction.atomic
def seed_group(count: int, *, out: Callable[[str], None]) -> None:
    """The group's sites beyond the two demo sites: a front desk and a phone line each, and a site
    manager (``site-003``…) with the demo password. Sites that exist are left as they are."""
    names = group_site_names(count)
    have = set(Location.objects.filter(name__in=names).values_list("name", flat=True))
    new = Location.objects.bulk_create(
        Location(name=name, address=f"1 High Street, {name.split()[0]}") for name in names if name not in have
    )
    Touchpoint.objects.bulk_create(
        Touchpoint(name=f"{kind} — {site.name}", channel=channel, location=site)
        for site in new
        for kind, channel in (
            ("Front desk", Touchpoint.Channel.IN_PERSON),
            ("Phone", Touchpoint.Channel.PHONE),
        )
    )
    password = User(username="x")
    password.set_password(DEMO_PASSWORD)  # hashed once: 200 hashes would take a minute
    sites = {site.name: site for site in Location.objects.filter(name__in=names)}
    for n, name in enumerate(names, start=len(LOCATIONS) + 1):
        user, created = User.objects.get_or_create(
            username=f"site-{n:03d}",
            defaults={"first_name": "Site", "last_name": f"Manager {n}", "location": sites[name],
                      "email": f"site-{n:03d}@practice.example", "password": password.password},
        )  # fmt: skip
        if created:
            _set_role(user, Role.SITE_MANAGER)
    out(f"Group: {len(LOCATIONS) + len(names)} sites ({len(new)} new), a site manager each (site-NNN).")


@transaction.atomic
def seed(*, options: dict, out: Callable[[str], None]) -> None:
    locations = {}
    for data in LOCATIONS:
        locations[data["name"]], _ = Location.objects.update_or_create(name=data["name"], defaults=data)
    for name, channel, location in TOUCHPOINTS:
        Touchpoint.objects.update_or_create(
            name=name, defaults={"channel": channel, "location": locations.get(location)}
        )
    for username, first, last, role, location in TEAM:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@practice.example",
                "location": locations[location],
                "welcome_email_sent_at": None,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        _set_role(user, role)
    for weekday, (opens, closes) in OPENING_HOURS.items():
        OpeningHours.objects.update_or_create(weekday=weekday, defaults={"opens": opens, "closes": closes})
    out(f"Practice: {len(LOCATIONS)} locations, {len(TOUCHPOINTS)} touchpoints, {len(TEAM)} team members.")
    if options.get("group"):
        seed_group(options["group"], out=out)


def logins() -> list[tuple[str, str, str]]:
    return [(username, DEMO_PASSWORD, Role(role).label) for username, _f, _l, role, _loc in TEAM]


def after_seed(*, options: dict, out: Callable[[str], None]) -> None:
    """Count the dashboard's daily feedback summaries now, not at the worker's first sweep."""
    call_command("refresh_dashboard", "--all", stdout=io.StringIO())
    out("Dashboard: feedback summaries counted.")
