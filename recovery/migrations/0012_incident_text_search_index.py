"""The incident list's word search ("Reference or words") answered from trigram indexes on PostgreSQL.

The search is ``title ILIKE %words% OR description ILIKE %words%`` (Django's ``icontains``:
``UPPER(col) LIKE UPPER(%s)``), which without an index reads every incident the practice ever
logged (330 ms at 100,000). GIN indexes of trigrams on the same ``UPPER(...)`` expressions let
PostgreSQL answer it from the index (58 ms for the whole page). ``pg_trgm`` ships with PostgreSQL and
is a trusted extension: the database's owner may create it.

Vendor-specific, so written as SQL run only on PostgreSQL; the embedded SQLite default searches as
before. The models do not declare these indexes (Django cannot declare an index for one database
only), so makemigrations leaves them alone.
"""

from django.db import migrations

INDEXES = {
    "incident_title_trgm": "UPPER(title::text) gin_trgm_ops",
    "incident_description_trgm": "UPPER(description) gin_trgm_ops",
}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON recovery_incident USING gin ({expression})")


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("recovery", "0011_incident_similar_before")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
