"""The Celery app. tenant-schemas-celery puts the current schema in every task's headers
and switches the worker's connection to it before the task runs; a task sent without a
tenant context runs in the public schema, so tenant work is only ever enqueued through
``tenants.tasking``, which refuses to send from the public schema."""
import os

from celery.schedules import crontab
from celery.signals import worker_ready
from kombu import Queue
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
if os.environ["DJANGO_SETTINGS_MODULE"].endswith((".local", ".test")):
    from config.embedded import ensure_services

    ensure_services()

app = CeleryApp("pulse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "email", "long")]
app.conf.beat_schedule = {
    # Public-schema task that enqueues the named task once per workspace, in its schema.
    "clear-expired-sessions-nightly": {
        "task": "tenants.fan_out",
        "schedule": crontab(hour=3, minute=17),
        "args": ("accounts.sessions_clear_expired",),
    },
    # Uploads of imports never started, or finished long ago and never looked at.
    "clean-up-import-uploads-nightly": {
        "task": "tenants.fan_out",
        "schedule": crontab(hour=3, minute=41),
        "args": ("ingestion.imports_cleanup",),
    },
    # KPI snapshots: the days changed by imports, the current periods, everything nightly.
    "kpis-resume": {"task": "tenants.fan_out", "schedule": crontab(minute="*/5"), "args": ("kpis.recomputes_resume",)},
    "kpis-touched": {"task": "tenants.fan_out", "schedule": crontab(minute="*/5"), "args": ("kpis.recompute_touched",)},
    "kpis-current-hourly": {"task": "tenants.fan_out", "schedule": crontab(minute=7), "args": ("kpis.recompute_current",)},
    "kpis-all-nightly": {"task": "tenants.fan_out", "schedule": crontab(hour=2, minute=23), "args": ("kpis.recompute_all",)},
    # Safety net for mentions left unscored (scoring is queued after each import).
    "score-mentions-nightly": {"task": "tenants.fan_out", "schedule": crontab(hour=2, minute=11),
                               "args": ("ingestion.mentions_score_sentiment",)},
    # Surveys: send the invitations and reminders that are due (a cheap indexed check in
    # workspaces with nothing due), expire unanswered links, and the CSAT trigger's safety
    # net (it also runs after each import or records API write of conversations).
    "surveys-send-due": {"task": "tenants.fan_out", "schedule": crontab(minute="*"),
                         "args": ("surveys.invitations_send_due",)},
    "surveys-expire-hourly": {"task": "tenants.fan_out", "schedule": crontab(minute=13),
                              "args": ("surveys.invitations_expire",)},
    "surveys-csat-trigger": {"task": "tenants.fan_out", "schedule": crontab(minute="*/5"),
                             "args": ("surveys.csat_trigger_scan",)},
    # Digest emails: create and send the digests that are due (08:00 local, so within 15
    # minutes of it); a cheap indexed check in workspaces with nothing due.
    "kpis-digests-send-due": {"task": "tenants.fan_out", "schedule": crontab(minute="*/15"),
                              "args": ("kpis.digests_send_due",)},
    # Comment themes: the comments changed since the last pass (imports queue one at once;
    # this catches the answers given one by one), and everything again nightly, which also
    # drops the matches of comments that are gone.
    "themes-match": {"task": "tenants.fan_out", "schedule": crontab(minute="*/10"), "args": ("themes.match",)},
    "themes-match-nightly": {"task": "tenants.fan_out", "schedule": crontab(hour=2, minute=47),
                             "args": ("themes.match_full",)},
    # Webhook deliveries whose task message was lost or whose worker died mid-attempt.
    "webhooks-resume": {"task": "tenants.fan_out", "schedule": crontab(minute="*/5"),
                        "args": ("webhooks.deliveries_resume",)},
    # Re-queue imports whose worker died (running, lock free) or whose message was lost.
    "resume-interrupted-imports": {
        "task": "tenants.fan_out",
        "schedule": crontab(minute="*/5"),
        "args": ("ingestion.imports_resume",),
    },
}
app.autodiscover_tasks()


@worker_ready.connect
def _resume_interrupted_work(sender, **kwargs):
    # A worker (re)starting after a crash picks up the imports it left behind at once,
    # without waiting for beat.
    sender.app.send_task("tenants.fan_out", args=("ingestion.imports_resume",))
    sender.app.send_task("tenants.fan_out", args=("kpis.recomputes_resume",))
    # And a sender run: it fails the invitations a killed sender left in "sending" (never
    # resent) and emails the rest of its batch.
    sender.app.send_task("tenants.fan_out", args=("surveys.invitations_send_due",))
    # And the due digests: it queues again those the dead worker had reserved (pending) and
    # leaves the one it was sending alone (never resent).
    sender.app.send_task("tenants.fan_out", args=("kpis.digests_send_due",))
