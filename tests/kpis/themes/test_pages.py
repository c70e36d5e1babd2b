"""The themes page on a hand-made March (workspace time zone Europe/Paris)."""
from datetime import UTC, datetime

import pytest
from django_tenants.utils import tenant_context

from ingestion.models import SocialMention
from kpis.themes.models import Theme
from tenants.accounts.models import Role
from tests.helpers import host_client
from tests.ingestion.factories import SurveyResponseFactory
from tests.surveys.factories import ResponseFactory, survey_make

AT = datetime(2026, 3, 10, 12, tzinfo=UTC)
MARCH = {"period": "month", "date": "2026-03-10"}


@pytest.fixture
def march(workspace):
    with tenant_context(workspace):
        for score, comment in ((3, "Refund took ages"), (2, "refund never came"), (10, "Great support"), (9, ""),
                               (8, "ok")):
            SurveyResponseFactory(kind="nps", score=score, comment=comment, responded_at=AT)
        for score, comment in ((5, "refund fine"), (2, "slow")):
            SurveyResponseFactory(kind="csat", score=score, comment=comment, responded_at=AT)
        survey = survey_make("nps")
        ResponseFactory(survey=survey, score=10, score_kind="nps", comment="refund was quick", responded_at=AT)
        ResponseFactory(survey=survey, score=0, score_kind="nps", comment="refund", responded_at=AT, review="pending")
        for n, (text, sentiment, brand) in enumerate((("refund drama", "negative", ""),
                                                      ("love the refund policy", "positive", ""),
                                                      ("their refund is bad", "negative", "Rival"))):
            SocialMention.objects.create(external_id=f"m-{n}", platform="x", posted_at=AT, text=text,
                                         sentiment=sentiment, brand=brand)
    return workspace


def test_a_team_lead_adds_a_theme_and_everyone_reads_its_impact(march, make_member, eager_tasks):
    lead = host_client(march, march.lead)
    with eager_tasks(execute=True):
        added = lead.post("/kpis/themes/add/?period=month&date=2026-03-10", {"name": "Refunds", "phrases": "refund"})
    assert added.status_code == 302 and added["Location"] == "/kpis/themes/?period=month&date=2026-03-10"
    page = host_client(march, make_member(Role.VIEWER)).get("/kpis/themes/", MARCH)
    assert page.status_code == 200
    overall, [entry] = page.context["overall"], page.context["entries"]
    # Comments: 7 survey comments (not the blank one, not the held answer) and 2 own-brand
    # mentions; the theme's: 3 NPS, 1 CSAT, 2 mentions.
    assert (overall["comments"], overall["nps_n"], overall["csat_n"]) == (9, 6, 2)
    assert (entry.comments, round(entry.share, 1), entry.mentions, entry.net_sentiment) == (6, 66.7, 2, 0.0)
    # NPS 16.67 overall (3 promoters, 2 detractors of 6); without the theme's 3 responses
    # (1 promoter, 2 detractors) the other 3 are 66.67: impact −50.
    assert (round(entry.nps.points, 2), round(entry.nps.without, 2), entry.nps.responses) == (-50.0, 66.67, 3)
    # CSAT 50% overall; without the theme's satisfied answer, 0%: +50 points.
    assert (entry.csat.points, entry.csat.without) == (50.0, 0.0)
    html = page.content.decode()
    assert "Themes, costliest first" in html and "9 comments in the period" in html
    assert "Add a theme" not in html  # viewers read only


def test_bad_themes_are_refused_with_reasons_and_only_leads_write(march, make_member):
    lead = host_client(march, march.lead)
    with tenant_context(march):
        Theme.objects.create(name="Refunds", phrases=["refund"])
    for data, message in (({"name": "refunds", "phrases": "money back"}, "A theme named “refunds” exists already."),
                          ({"name": "Empty", "phrases": " , \n "}, "Give at least one phrase."),
                          ({"name": "Marks", "phrases": "!!!"}, "A phrase needs at least one letter or digit.")):
        refused = lead.post("/kpis/themes/add/", data)
        assert refused.status_code == 400 and message in refused.content.decode(), message
    with tenant_context(march):
        assert list(Theme.objects.values_list("name", flat=True)) == ["Refunds"]
    for role in (Role.AGENT, Role.VIEWER):
        client = host_client(march, make_member(role))
        assert client.post("/kpis/themes/add/", {"name": "X", "phrases": "x"}).status_code == 403
        assert client.get("/kpis/themes/1/").status_code == 403


def test_editing_and_deleting_a_theme(march, eager_tasks):
    lead = host_client(march, march.lead)
    with tenant_context(march):
        theme = Theme.objects.create(name="Refunds", phrases=["refund"])
    form = lead.get(f"/kpis/themes/{theme.pk}/").content.decode()
    assert "refund</textarea>" in form
    with eager_tasks(execute=True):
        saved = lead.post(f"/kpis/themes/{theme.pk}/", {"name": "Speed", "phrases": "slow\ntook ages"})
    assert saved.status_code == 302
    [entry] = lead.get("/kpis/themes/", MARCH).context["entries"]
    assert (entry.theme.name, entry.comments, entry.nps.responses, entry.csat.responses) == ("Speed", 2, 1, 1)
    assert lead.post(f"/kpis/themes/{theme.pk}/delete/").status_code == 302
    with tenant_context(march):
        assert not Theme.objects.exists()
