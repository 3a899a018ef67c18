"""The four roles as groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from licenses.roles import role_permissions


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps)


def sync_roles(apps):
    """Give each role group exactly its permissions (also run after every migrate)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codes in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        if codes is None:
            perms = Permission.objects.all()
        else:
            wanted = {tuple(code.split(".", 1)) for code in codes}
            perms = [
                p
                for p in Permission.objects.select_related("content_type")
                if (p.content_type.app_label, p.codename) in wanted
            ]
        group.permissions.set(perms)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(role_permissions())).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("licenses", "0002_relations_indexes_and_constraints"),
        ("shipments", "0001_consignees_and_shipments"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
