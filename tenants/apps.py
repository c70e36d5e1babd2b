from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Workspaces"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from tenants.middleware import _forget_workspace
        from tenants.models import Domain, Workspace

        for model in (Workspace, Domain):
            post_save.connect(_forget_workspace, sender=model, dispatch_uid=f"tenant-cache-{model.__name__}")
            post_delete.connect(_forget_workspace, sender=model, dispatch_uid=f"tenant-cache-{model.__name__}-delete")
