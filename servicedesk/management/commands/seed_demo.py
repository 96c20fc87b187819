from __future__ import annotations

from importlib import import_module
from types import ModuleType

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import module_has_submodule

from servicedesk import demo


def demo_modules() -> list[ModuleType]:
    """Each installed app's ``demo`` module, in INSTALLED_APPS order (core first)."""
    return [
        import_module(f"{config.name}.demo")
        for config in apps.get_app_configs()
        if module_has_submodule(config.module, "demo")
    ]


class Command(BaseCommand):
    help = (
        "Fill the database with a realistic demo practice. Safe to run again: it updates, never duplicates."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even when DEBUG is off (never on a real practice's data).",
        )
        for module in demo_modules():
            if hasattr(module, "add_arguments"):
                module.add_arguments(parser)

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo adds demo accounts with published passwords, "
                "so it refuses to run when DEBUG is off. "
                "Use --force only on a throwaway database."
            )
        modules = demo_modules()
        out = lambda line: self.stdout.write(f"  {line}")  # noqa: E731
        for module in modules:
            module.seed(options=options, out=out)
        # Figures that read across pillars (goal measurements, dashboard summaries) are
        # computed once everything is in, so the demo shows them without waiting for a worker.
        for module in modules:
            if hasattr(module, "after_seed"):
                module.after_seed(options=options, out=out)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in at http://127.0.0.1:8000 as:"))
        for username, password, role in demo.logins():
            self.stdout.write(f"  {role:<8} {username:<10} password: {password}")
