"""Site managers: a third role, managing only their own sites (a medical group's site managers)."""

from django.db import migrations

NAME = "Site managers"


def create_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=NAME)


def remove_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("servicedesk", "0013_practice_calendar")]

    operations = [migrations.RunPython(create_role, remove_role)]
