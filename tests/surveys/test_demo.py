"""The demo surveys: consistent with the generated data and with the rules the real
services follow (statuses, expiry, suppression, follow-ups), plausible figures, made once."""
from datetime import timedelta

import pytest
from django.db.models import Count, F, Q
from django.utils import timezone
from django_tenants.utils import tenant_context

from ingestion.generator import World
from surveys.demo import demo_surveys_load
from surveys.models import Invitation, Response, Suppression, Survey, SurveySettings
from surveys.selectors.results import delivery_summary, score_summary
from tenants.demo import demo_data_load


@pytest.fixture
def demo(workspace):
    world = World.scaled(0.02, time_zone=workspace.time_zone, currency=workspace.currency)
    demo_data_load(workspace=workspace, world=world)
    with tenant_context(workspace):
        counts = demo_surveys_load(world=world)
        yield world, counts


def test_demo_surveys_are_consistent(demo):
    _, counts = demo
    assert counts == {"invitations": Invitation.objects.count(), "responses": Response.objects.count(),
                      "answers": sum(Response.objects.annotate(n=Count("answers")).values_list("n", flat=True))}
    surveys = {s.public_id: s for s in Survey.objects.all()}
    assert set(surveys) == {"demo-nps", "demo-csat", "demo-feedback"}
    # Every answered invitation has its one response, answered after the email and before expiry.
    answered = Invitation.objects.filter(status="responded")
    assert answered.count() == Response.objects.filter(invitation__isnull=False).count() > 0
    assert not answered.filter(Q(responded_at__lt=F("sent_at")) | Q(responded_at__gte=F("expires_at"))).exists()
    assert not Invitation.objects.filter(status="failed", sent_at__isnull=False).exists()
    assert not Invitation.objects.filter(status="sent", expires_at__lte=timezone.now()).exists()
    unsubscribed = set(Invitation.objects.filter(status="unsubscribed").values_list("email", flat=True))
    assert unsubscribed and unsubscribed <= set(Suppression.objects.values_list("email", flat=True))
    # Triggered CSAT carries its conversation's channel and agent, one per conversation.
    triggered = Invitation.objects.filter(source="trigger")
    assert triggered.exists() and not triggered.filter(Q(channel="") | Q(conversation_external_id="")).exists()
    # Follow-ups: every detractor / unhappy answer has one.
    assert not Response.objects.filter(score_kind="nps", score__lte=6, followup="").exists()
    assert not Response.objects.filter(score_kind="csat", score__lte=2, followup="").exists()
    assert Response.objects.filter(followup="open").exists() and Response.objects.filter(followup="done").exists()
    settings = SurveySettings.load()
    assert settings.csat_trigger_survey == surveys["demo-csat"]
    assert timezone.now() - settings.csat_trigger_since < timedelta(minutes=5)


def test_demo_figures_are_plausible(demo):
    nps = Survey.objects.get(public_id="demo-nps")
    summary = score_summary(survey=nps)
    assert summary.responses > 100 and 5 < summary.value < 40  # weights give about 22
    delivery = delivery_summary(survey=nps)
    assert 25 < delivery["response_rate"] < 45
    csat = score_summary(survey=Survey.objects.get(public_id="demo-csat"))
    assert 70 < csat.value < 92  # weights give 81% positive


def test_demo_surveys_are_made_once(demo):
    world, _ = demo
    before = Response.objects.count()
    assert demo_surveys_load(world=world) == {}
    assert Response.objects.count() == before
