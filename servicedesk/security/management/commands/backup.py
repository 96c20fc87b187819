from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from servicedesk.security import backup


class Command(BaseCommand):
    help = (
        "Back up the whole database to one file: pg_dump (custom format) on PostgreSQL, a consistent "
        "copy on SQLite; and the attachments folder beside it (<file>.attachments.tar). Safe while "
        "Servicedesk runs. Both hold patient data: they are made readable by their owner only; keep "
        "them encrypted and off this machine."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output", type=Path, help="File to write (default: var/backups/servicedesk-<time>.*)"
        )
        parser.add_argument("--database-url", help="Back up this database instead of the configured one.")

    def handle(self, *args, output: Path | None, database_url: str | None, **options) -> None:
        try:
            config = backup.database_config(database_url)
            written = backup.backup(
                destination=output or backup.default_destination(config), url=database_url
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        size = written.stat().st_size
        self.stdout.write(self.style.SUCCESS(f"Backup written: {written} ({size:,} bytes)."))
        archive = backup.attachments_archive(written)
        if archive.is_file():
            self.stdout.write(self.style.SUCCESS(f"Attachments written: {archive}; keep it with the backup."))
