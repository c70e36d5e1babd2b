"""NPS, CSAT and the survey response rate over answers given to Pulse surveys, beside
imported responses (hand-computed; workspace time zone Europe/Paris)."""
from datetime import UTC, date, datetime

import pytest
from django_tenants.utils import tenant_context

from kpis.models import KpiSettings, KpiSnapshot
from kpis.registry import KPIS
from kpis.selectors.drilldown import kpi_drilldown
from kpis.selectors.values import kpi_series, segment_labels
from kpis.services.compute import kpis_compute
from tests.surveys.factories import AnswerFactory, InvitationFactory, ResponseFactory, survey_make

CUSTOMERS = [
    {"external_id": "cus-1", "signed_up_at": "2026-01-01T00:00"},
    {"external_id": "cus-test", "signed_up_at": "2026-01-01T00:00", "is_test": "true"},
]
IMPORTED = [
    {"external_id": "imp-1", "kind": "nps", "score": "10", "responded_at": "2026-03-05T10:00", "channel": "chat"},
    {"external_id": "imp-2", "kind": "csat", "score": "2", "responded_at": "2026-03-05T10:00"},
]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def answer(survey, score, at, *, question=1, channel="", agent="", customer="", invitation=None):
    response = ResponseFactory(survey=survey, responded_at=at, updated_at=at, channel=channel, agent=agent,
                               customer_external_id=customer, invitation=invitation, score=score)
    AnswerFactory(response=response, question=survey.questions.get(position=question), score=score)
    return response


@pytest.fixture
def surveys(workspace, load):
    """March 2026 (Paris): NPS survey answers 10, 9, 7, 3 (+ 0 from a test customer, left
    out; + 6 on 1 April 00:30 Paris = 31 March 22:30 UTC, in April), a custom survey whose
    second question is NPS (answer 8) and a CSAT survey (5, 4, 1)."""
    load("customers", CUSTOMERS)
    load("survey_responses", IMPORTED)
    with tenant_context(workspace):
        nps = survey_make("nps", name="Quarterly NPS")
        custom = survey_make("custom", name="Onboarding", questions=[
            {"kind": "text", "text": "What did you try first?"},
            {"kind": "nps", "text": "Would you recommend us?", "choices": ["No", "Yes"]}])
        csat = survey_make("csat", name="After support")
        answer(nps, 10, utc(2026, 3, 2, 9), channel="email", agent="ann")
        answer(nps, 9, utc(2026, 3, 3, 9), channel="email", agent="bob")
        answer(nps, 7, utc(2026, 3, 4, 9), channel="chat", agent="ann")
        # 23:30 Paris on 31 March (21:30 UTC): still March.
        answer(nps, 3, utc(2026, 3, 31, 21, 30), channel="chat", agent="ann")
        answer(nps, 0, utc(2026, 3, 10, 9), customer="cus-test")
        answer(nps, 6, utc(2026, 3, 31, 22, 30))
        answer(custom, 8, utc(2026, 3, 20, 9), question=2)
        answer(csat, 5, utc(2026, 3, 2, 9), agent="ann")
        answer(csat, 4, utc(2026, 3, 2, 10), agent="bob")
        answer(csat, 1, utc(2026, 3, 3, 9), agent="ann")
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 5, 1), keys=["nps", "csat"])
        yield {"nps": nps, "custom": custom, "csat": csat}


def snap(key, start, segment_kind="", segment=""):
    return KpiSnapshot.objects.get(kpi=key, period_kind="month", period_start=start, segment_kind=segment_kind,
                                   segment=segment)


def test_nps_counts_pulse_answers_beside_imported_ones(surveys):
    march = snap("nps", date(2026, 3, 1))
    # imported 10 + Pulse 10, 9, 7, 3 + custom 8: promoters 3, detractors 1 of 6.
    assert (march.numerator, march.denominator, march.extra) == (2, 6, {"promoters": 3.0, "detractors": 1.0})
    assert round(march.value, 4) == round(2 / 6 * 100, 4)
    april = snap("nps", date(2026, 4, 1))
    assert (april.numerator, april.denominator, april.value) == (-1, 1, -100.0)


def test_nps_by_survey_channel_and_agent(surveys):
    nps, custom = surveys["nps"], surveys["custom"]
    assert (snap("nps", date(2026, 3, 1), "survey", str(nps.pk)).numerator,
            snap("nps", date(2026, 3, 1), "survey", str(nps.pk)).denominator) == (1, 4)
    assert snap("nps", date(2026, 3, 1), "survey", str(custom.pk)).value == 0.0
    assert snap("nps", date(2026, 3, 1), "survey", "").value == 100.0  # the imported response
    assert snap("nps", date(2026, 3, 1), "channel", "email").value == 100.0  # 10, 9
    assert snap("nps", date(2026, 3, 1), "channel", "chat").value == 0.0  # imported 10, then 7, 3
    assert snap("nps", date(2026, 3, 1), "agent", "ann").value == 0.0  # 10, 7, 3 → 1 − 1 of 3


def test_csat_counts_pulse_answers(surveys):
    march = snap("csat", date(2026, 3, 1))
    # imported 2 + Pulse 5, 4, 1: positive 2 of 4; mean score (2 + 5 + 4 + 1) / 4.
    assert (march.numerator, march.denominator, march.value, march.extra) == (2, 4, 50.0, {"score_sum": 12.0})
    assert snap("csat", date(2026, 3, 1), "survey", str(surveys["csat"].pk)).value == pytest.approx(200 / 3)
    assert snap("csat", date(2026, 3, 1), "agent", "bob").value == 100.0


def test_live_range_equals_snapshots(surveys):
    live = kpi_series(key="nps", period="range", start=date(2026, 3, 1), end=date(2026, 4, 1),
                      segment="survey", settings=KpiSettings.load())
    by_segment = {row["segment"]: (row["numerator"], row["denominator"]) for row in live}
    assert by_segment == {str(surveys["nps"].pk): (1, 4), str(surveys["custom"].pk): (0, 1), "": (1, 1)}


def test_an_edited_score_moves_the_kpi_but_not_its_period(workspace, surveys):
    from surveys.models import Answer

    Answer.objects.filter(response__survey=surveys["nps"], score=3).update(score=9)
    kpis_compute(since=date(2026, 3, 1), until=date(2026, 4, 1), keys=["nps"])
    assert snap("nps", date(2026, 3, 1)).extra == {"promoters": 4.0, "detractors": 0.0}


def test_drilldown_lists_pulse_and_imported_answers(surveys):
    bands, rows = kpi_drilldown(kpi=KPIS["nps"], since=date(2026, 3, 1), until=date(2026, 4, 1),
                                settings=KpiSettings.load(), band="detractor")
    assert bands == {"promoter": 3, "passive": 2, "detractor": 1}
    (row,) = rows[0:10]
    shown = dict(zip(rows.columns, row[1:]))
    assert (row[0], shown["Score"], shown["Source"], shown["Channel"]) == ("detractor", 3, "survey: Quarterly NPS", "chat")
    _, rows = kpi_drilldown(kpi=KPIS["nps"], since=date(2026, 3, 1), until=date(2026, 4, 1),
                            settings=KpiSettings.load(), segment="survey", value=str(surveys["custom"].pk))
    assert [dict(zip(rows.columns, r[1:]))["Score"] for r in rows[0:10]] == [8]


def test_segment_labels_name_surveys(surveys):
    nps = surveys["nps"]
    assert segment_labels("survey", [str(nps.pk), "", "999999"]) == {
        str(nps.pk): "Quarterly NPS", "": "Imported responses", "999999": "Deleted survey #999999"}
    assert segment_labels("channel", ["", "chat"]) == {"": "(none)", "chat": "chat"}


def test_survey_response_rate(workspace, load):
    load("customers", CUSTOMERS)
    with tenant_context(workspace):
        survey = survey_make("nps")
        other = survey_make("csat")
        sent = utc(2026, 3, 10, 9)
        InvitationFactory(survey=survey, scheduled_at=sent, sent_at=sent, status="responded", responded_at=sent,
                          channel="chat")
        InvitationFactory(survey=survey, scheduled_at=sent, sent_at=sent, status="sent", channel="chat")
        InvitationFactory(survey=survey, scheduled_at=sent, sent_at=sent, status="expired")
        InvitationFactory(survey=other, scheduled_at=sent, sent_at=sent, status="responded", responded_at=sent)
        # Never delivered, a test customer's, and one sent in April: not in March's rate.
        InvitationFactory(survey=survey, scheduled_at=sent, sent_at=None, status="failed")
        InvitationFactory(survey=survey, scheduled_at=sent, sent_at=sent, status="responded", responded_at=sent,
                          customer_external_id="cus-test")
        InvitationFactory(survey=survey, scheduled_at=utc(2026, 4, 2), sent_at=utc(2026, 4, 2), status="sent")
        kpis_compute(since=date(2026, 3, 1), until=date(2026, 5, 1), keys=["survey_response_rate"])
        march = snap("survey_response_rate", date(2026, 3, 1))
        assert (march.numerator, march.denominator, march.value) == (2, 4, 50.0)
        assert snap("survey_response_rate", date(2026, 3, 1), "survey", str(survey.pk)).value == pytest.approx(100 / 3)
        assert snap("survey_response_rate", date(2026, 3, 1), "channel", "chat").value == 50.0
        assert snap("survey_response_rate", date(2026, 4, 1)).value == 0.0
        assert not KpiSnapshot.objects.filter(kpi="survey_response_rate", period_start=date(2026, 2, 1)).exists()
