"""Moving the test database between migrations, for the tests that prove a data migration keeps
every row: go back to the schema before it, write rows through that schema's models, go forward."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

Targets = list[tuple[str, str | None]]


def migrate(targets: Targets, *, state: Targets | None = None) -> Apps:
    """Migrate to ``targets``; the models as they were there (or at ``state``, when the rows must be
    written in a schema that names other apps' migrations too)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(state or [t for t in targets if t[1] is not None]).apps


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
