"""Clinical reviewers may see admin sign-in lockouts and lift them (deleting
an access attempt lifts its lockout), so a locked-out colleague need not wait
for a superuser (issue 20)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REVIEWER = "Clinical reviewer"
CODENAMES = ["view_accessattempt", "delete_accessattempt"]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="axes", codename__in=CODENAMES)
    for group in Group.objects.filter(name=REVIEWER):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="axes", codename__in=CODENAMES)
    for group in Group.objects.filter(name=REVIEWER):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("therapyinfo", "0007_prerendered_html"),
        ("axes", "0009_add_session_hash"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
