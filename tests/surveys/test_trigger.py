"""The post-conversation CSAT trigger, in this process (the worker test in
test_sending_worker.py goes through the records API and a real worker)."""
import zoneinfo
from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from surveys.models import Invitation, Refusal, SurveySettings
from surveys.selectors.distribution import csat_trigger_candidates
from surveys.services.trigger import csat_trigger_scan
from tests.ingestion.factories import ConversationFactory, CustomerFactory
from tests.surveys.factories import InvitationFactory, survey_make

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def resolved(external_id, customer, ago, **fields):
    now = timezone.now()
    return ConversationFactory(external_id=external_id, customer_external_id=customer, created_at=now - ago - timedelta(hours=1),
                               resolved_at=now - ago, **fields)


def test_off_until_a_survey_is_chosen(workspace):
    with tenant_context(workspace):
        CustomerFactory(external_id="c1", email="a@x.test")
        resolved("v1", "c1", timedelta(hours=2))
        assert csat_trigger_scan() == 0
        assert Invitation.objects.count() == 0 and Refusal.objects.count() == 0


def test_each_conversation_is_decided_once(workspace):
    now = timezone.now()
    with tenant_context(workspace):
        survey = survey_make("csat")
        SurveySettings.objects.update_or_create(pk=1, defaults={
            "csat_trigger_survey": survey, "csat_trigger_delay_minutes": 15, "csat_trigger_since": now - timedelta(days=30)})
        CustomerFactory(external_id="c1", email="One@X.test", name="One")
        CustomerFactory(external_id="c2", email="two@x.test")
        CustomerFactory(external_id="c3", email="three@x.test")
        one = resolved("v1", "c1", timedelta(hours=3), channel="phone", agent="Ann")
        resolved("v2", "c1", timedelta(hours=2))  # the same customer again: throttled
        resolved("v3", "c2", timedelta(days=8))  # too long ago
        resolved("v4", "missing", timedelta(hours=1))  # customer not imported (yet)
        resolved("v5", "c3", timedelta(hours=1))
        InvitationFactory(email="three@x.test")  # surveyed already (another survey)
        ConversationFactory(external_id="v6", customer_external_id="c2", created_at=now)  # not resolved
        assert [c["external_id"] for c in csat_trigger_candidates(since=now - timedelta(days=30), now=now)] == ["v1", "v2", "v5"]
        assert csat_trigger_scan() == 1
        invitation = Invitation.objects.get(conversation_external_id="v1")
        assert (invitation.email, invitation.name, invitation.channel, invitation.agent, invitation.customer_external_id,
                invitation.source, invitation.status, invitation.scheduled_at) == (
            "one@x.test", "One", "phone", "Ann", "c1", "trigger", "scheduled", one.resolved_at + timedelta(minutes=15))
        today = timezone.localdate(timezone=PARIS).isoformat()
        assert sorted(Refusal.objects.values_list("conversation_external_id", "reason", "source")) == [
            ("v2", f"surveyed on {today}, within the 30-day window", "trigger"),
            ("v5", f"surveyed on {today}, within the 30-day window", "trigger")]
        assert csat_trigger_scan() == 0
        assert Invitation.objects.filter(source="trigger").count() == 1 and Refusal.objects.count() == 2


def test_since_and_throttling_off(workspace):
    now = timezone.now()
    with tenant_context(workspace):
        survey = survey_make("csat")
        SurveySettings.objects.update_or_create(pk=1, defaults={
            "csat_trigger_survey": survey, "csat_trigger_since": now - timedelta(hours=5), "throttle_days": 0})
        CustomerFactory(external_id="c1", email="a@x.test")
        resolved("before", "c1", timedelta(hours=6))
        resolved("after1", "c1", timedelta(hours=4))
        resolved("after2", "c1", timedelta(hours=3))
        assert csat_trigger_scan() == 2  # one invitation per conversation when throttling is off
        assert sorted(Invitation.objects.values_list("conversation_external_id", flat=True)) == ["after1", "after2"]


def test_candidates_are_selected_in_one_query(workspace):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    now = timezone.now()
    with tenant_context(workspace):
        for i in range(20):
            CustomerFactory(external_id=f"c{i}", email=f"p{i}@x.test")
            resolved(f"v{i}", f"c{i}", timedelta(hours=1))
        with CaptureQueriesContext(connection) as queries:
            assert len(csat_trigger_candidates(since=now - timedelta(days=1), now=now)) == 20
    # django-tenants sets the search path first; then one SELECT does the whole selection.
    assert [q["sql"].split()[0] for q in queries.captured_queries if not q["sql"].startswith("SET search_path")] == ["SELECT"]
