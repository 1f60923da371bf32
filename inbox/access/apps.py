from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "inbox.access"
    label = "access"
    verbose_name = "Members and access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # django-axes reports lockouts only through its signal: the audit log listens (issue 5).
        from axes.signals import user_locked_out

        from inbox.access.login import on_user_locked_out

        user_locked_out.connect(on_user_locked_out, dispatch_uid="access.audit_lockout")
