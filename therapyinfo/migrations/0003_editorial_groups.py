"""The two editorial roles as groups: "Content editor" and "Clinical reviewer".

Editors add and change content (and delete the rows a page is made of);
reviewers can also publish, mark pages as clinically reviewed and delete
pages. Permissions are normally created after all migrations have run, so
this migration creates them first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR = "Content editor"
REVIEWER = "Clinical reviewer"

PAGES = ["therapy", "comparison", "article"]
ROWS = ["therapysideeffect", "comparisonrow", "comparisoncell", "articlesection"]
OTHER = ["mechanism", "sideeffect", "source", "glossaryterm", "crisisresource"]


def editor_codenames():
    content = PAGES + ROWS + OTHER
    return (
        [f"{action}_{model}" for model in content for action in ("add", "change", "view")]
        + [f"delete_{model}" for model in ROWS]
        + [f"view_historical{model}" for model in content]
    )


def reviewer_codenames():
    return (
        editor_codenames()
        + [f"{action}_{model}" for model in PAGES for action in ("publish", "review")]
        + [f"delete_{model}" for model in PAGES + OTHER]
    )


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in [(EDITOR, editor_codenames()), (REVIEWER, reviewer_codenames())]:
        permissions = Permission.objects.filter(
            content_type__app_label="therapyinfo", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        # The history tables' permissions go with the tables (0010); when the
        # groups are made again on today's models (a test after a flush), they
        # are not there to give.
        missing = {name for name in missing if not name.startswith("view_historical")}
        if missing:
            raise RuntimeError(f"Permissions not found: {', '.join(sorted(missing))}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[EDITOR, REVIEWER]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("therapyinfo", "0002_editorial_history"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
