from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from . import roles


def _sync_roles(sender, apps=None, **kwargs) -> None:
    # Keep role groups in step with permissions added by later migrations. The apps above this
    # one get their permissions after this app's post_migrate: create them all first.
    from importlib import import_module

    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    for config in global_apps.get_app_configs():
        create_permissions(config, apps=global_apps, verbosity=0)
    import_module("licenses.migrations.0003_roles").sync_roles(global_apps)


class LicensesConfig(AppConfig):
    name = "licenses"
    verbose_name = _("Licenses")
    default_auto_field = "django.db.models.BigAutoField"
    role_permissions = {
        roles.VIEWER: roles.grants(
            "licenses",
            [
                "authority",
                "calendarday",
                "controlleditem",
                "exporter",
                "licenseapplication",
                "windowrule",
                "fasttrackdecision",
                "document",
                "event",
                "measure",
                "measuresuspension",
                "measurechange",
            ],
            ("view",),
        ),
        roles.OFFICER: roles.grants(
            "licenses", ["exporter", "licenseapplication", "document"], ("add", "change")
        )
        | {"licenses.move_licenseapplication", "licenses.export_event"},
        roles.MANAGER: roles.grants(
            "licenses", ["windowrule", "fasttrackdecision", "measure"], ("add", "change")
        )
        | {"licenses.revoke_fasttrackdecision"},
    }

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self)
        from django.db.models import Field, ForeignObject

        from core.lookups import AnyOf

        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(AnyOf)  # its lookups are its own, not Field's
