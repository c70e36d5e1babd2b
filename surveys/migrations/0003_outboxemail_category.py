"""Every Outbox email gets a category; the account emails kept before (password resets
and team invitations, readable by any agent: issue #15) are deleted.

Until now only two kinds of mail were sent from a workspace: survey invitations and
reminders, which always carry ``List-Unsubscribe`` (and usually their invitation), and
account emails, which carry neither. So a kept row with neither header nor invitation is
an account email: it holds a live credential of one member and is deleted, not kept
hidden.
"""
from django.db import migrations, models


def outbox_categorise(apps, schema_editor):
    OutboxEmail = apps.get_model("surveys", "OutboxEmail")
    survey = models.Q(invitation__isnull=False) | models.Q(headers__has_key="List-Unsubscribe")
    OutboxEmail.objects.filter(survey).update(category="survey")
    OutboxEmail.objects.exclude(survey).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0002_distribution_reminder_sending_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxemail",
            name="category",
            field=models.CharField(default="", max_length=10),
            preserve_default=False,
        ),
        migrations.RunPython(outbox_categorise, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="outboxemail",
            name="category",
            field=models.CharField(choices=[("survey", "Survey invitation or reminder"), ("digest", "Digest"),
                                            ("account", "Account email (password reset, team invitation, sign-in link)")],
                                   max_length=10),
        ),
    ]
