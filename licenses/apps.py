from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, apps=None, **kwargs) -> None:
    # Keep role groups in step with permissions added by later migrations.
    from importlib import import_module

    from django.apps import apps as global_apps

    import_module("licenses.migrations.0003_roles").sync_roles(apps or global_apps)


class LicensesConfig(AppConfig):
    name = "licenses"
    verbose_name = _("Licenses")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self)
        from django.db.models import Field, ForeignObject

        from core.lookups import AnyOf

        from . import receivers  # noqa: F401

        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(AnyOf)  # its lookups are its own, not Field's
