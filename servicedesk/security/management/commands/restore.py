from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from servicedesk.security import backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an empty database (the configured one, or "
        "--database-url). Stop the web and worker processes first; run `migrate` after, in case the "
        "backup is older than this version of Servicedesk."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", type=Path, help="The backup file.")
        parser.add_argument(
            "--database-url", help="Restore into this database instead of the configured one."
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Overwrite a database that already holds Servicedesk data (everything in it is lost).",
        )

    def handle(self, *args, source: Path, database_url: str | None, replace: bool, **options) -> None:
        try:
            backup.restore(source=source, url=database_url, replace=replace)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored {source}."))
