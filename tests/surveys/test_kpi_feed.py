"""Survey activity reaches the KPI engine the way imports do: sending and answering record
the local days they changed (TouchedDay), and the 5-minute recompute turns them into
NPS and response-rate snapshots."""
from datetime import date, timedelta

from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from ingestion.models import TouchedDay
from ingestion.touched import touched_days_record
from kpis.models import KpiSnapshot
from kpis.services.compute import kpis_recompute_touched
from surveys.models import Invitation
from surveys.services.answering import response_record_score
from surveys.services.invitations import campaign_create
from surveys.services.sending import invitations_send_due
from tests.surveys.factories import survey_make


def test_kpi_days_touch_records_local_days_once(workspace):
    from datetime import UTC, datetime

    with tenant_context(workspace):
        # 22:30 UTC on 31 March is 1 April in Paris; twice the same day is one row.
        touched_days_record(dataset="survey_invitations", moments=[
            datetime(2026, 3, 31, 22, 30, tzinfo=UTC), datetime(2026, 4, 1, 8, tzinfo=UTC), None])
        assert list(TouchedDay.objects.values_list("dataset", "day")) == [("survey_invitations", date(2026, 4, 1))]
        touched_days_record(dataset="survey_invitations", moments=[])
        assert TouchedDay.objects.count() == 1


def test_sending_and_answering_feed_the_response_rate_and_nps(workspace, mailoutbox):
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign_create(survey=survey, recipients=[{"email": "a@feed.test"}, {"email": "b@feed.test"}])
        assert invitations_send_due() == 2 and len(mailoutbox) == 2
        today = timezone.localdate()
        assert set(TouchedDay.objects.values_list("dataset", "day")) == {("survey_invitations", today)}
        kpis_recompute_touched()
        rate = KpiSnapshot.objects.get(kpi="survey_response_rate", period_kind="day", period_start=today, segment_kind="")
        assert (rate.numerator, rate.denominator, rate.value) == (0, 2, 0.0)
        assert not TouchedDay.objects.exists()

        response_record_score(invitation=Invitation.objects.get(email="a@feed.test"), score=10)
        assert set(TouchedDay.objects.values_list("dataset", "day")) == {
            ("survey_invitations", today), ("survey_responses", today)}
        kpis_recompute_touched()
        rate = KpiSnapshot.objects.get(kpi="survey_response_rate", period_kind="day", period_start=today, segment_kind="")
        assert (rate.numerator, rate.denominator, rate.value) == (1, 2, 50.0)
        nps = KpiSnapshot.objects.get(kpi="nps", period_kind="day", period_start=today, segment_kind="survey",
                                      segment=str(survey.pk))
        assert (nps.numerator, nps.denominator, nps.value) == (1, 1, 100.0)


def test_a_day_touched_again_during_a_recompute_is_kept_for_the_next(workspace, monkeypatch):
    import kpis.services.compute

    with tenant_context(workspace):
        touched_days_record(dataset="survey_invitations", moments=[timezone.now()])
        compute = kpis.services.compute.kpi_compute

        def compute_while_an_answer_arrives(**kwargs):
            # Another transaction's ON CONFLICT DO UPDATE renews recorded_at (its now());
            # inside this test's single transaction now() does not move, so renew it here.
            TouchedDay.objects.update(recorded_at=F("recorded_at") + timedelta(seconds=1))
            return compute(**kwargs)

        monkeypatch.setattr(kpis.services.compute, "kpi_compute", compute_while_an_answer_arrives)
        kpis_recompute_touched()
        # The row was renewed after it was read: it stays, so the change is not lost.
        assert list(TouchedDay.objects.values_list("dataset", "day")) == [("survey_invitations", timezone.localdate())]
        monkeypatch.setattr(kpis.services.compute, "kpi_compute", compute)
        kpis_recompute_touched()
        assert not TouchedDay.objects.exists()
