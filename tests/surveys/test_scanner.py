"""Scanner protection (issue #10 part 1): email link scanners fetch every link of an email
and sometimes submit its forms. A GET never answers; every bot signal is recorded as a
reason; a suspect submission is kept but held out of every KPI until a team lead accepts
it (then it counts and the KPIs are recomputed) or rejects it."""
import re
import time
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import requests
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from kpis.models import KpiSnapshot
from kpis.services.compute import kpis_recompute_touched
from surveys.models import Invitation, OutboxEmail, Response
from surveys.selectors.results import score_summary
from surveys.services import scanner
from surveys.services.invitations import campaign_create
from surveys.services.sending import invitations_send_due
from tests.helpers import BROWSER_AGENT, host_client
from tests.surveys.factories import InvitationFactory, survey_make


@pytest.fixture
def nps(workspace):
    with tenant_context(workspace):
        survey = survey_make("nps", name="Support NPS")
        invitation = InvitationFactory(survey=survey, email="ann@example.test")
    connection.set_schema_to_public()
    return survey, invitation


def _invitation(workspace, invitation):
    with tenant_context(workspace):
        return Invitation.objects.get(pk=invitation.pk)


def _responses(workspace):
    with tenant_context(workspace):
        return list(Response.objects.order_by("responded_at").values_list("score", "review", "review_reasons"))


def _nps_today(workspace, survey):
    """The NPS snapshot of today for ``survey`` after the touched days are recomputed, as
    (numerator, denominator, value); None when there is none."""
    with tenant_context(workspace):
        kpis_recompute_touched()
        row = KpiSnapshot.objects.filter(kpi="nps", period_kind="day", period_start=timezone.localdate(),
                                         segment_kind="survey", segment=str(survey.pk)).first()
        return (row.numerator, row.denominator, row.value) if row else None


# ---------------------------------------------------------------- the reasons, one by one

def test_a_link_opened_seconds_after_delivery_is_an_early_hit(workspace, nps):
    _, invitation = nps
    with tenant_context(workspace):
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(seconds=3))
    host_client(workspace).get(f"/s/{invitation.token}?score=10")
    row = _invitation(workspace, invitation)
    assert (row.bot_reasons, row.provisional_score, row.last_hit_score) == (["early_hit"], None, 10)


def test_the_window_is_the_workspaces_setting(workspace, nps):
    _, invitation = nps
    with tenant_context(workspace):
        from surveys.models import SurveySettings

        SurveySettings.objects.update_or_create(pk=1, defaults={"scanner_window_seconds": 2})
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(seconds=3))
    host_client(workspace).get(f"/s/{invitation.token}?score=10")
    assert _invitation(workspace, invitation).bot_reasons == []


def test_several_score_links_within_seconds_are_a_burst(workspace, nps):
    _, invitation = nps
    client = host_client(workspace)
    client.get(f"/s/{invitation.token}?score=0")
    client.get(f"/s/{invitation.token}?score=0")  # the same link twice is a person reloading
    client.get(f"/s/{invitation.token}")  # the plain link: a person back to change the answer
    client.get(f"/s/{invitation.token}?score=0")
    assert _invitation(workspace, invitation).bot_reasons == []
    client.get(f"/s/{invitation.token}?score=1")
    row = _invitation(workspace, invitation)
    # The first click looked like a person's: it stays the provisional score (never in NPS).
    assert (row.bot_reasons, row.provisional_score, row.last_hit_score) == (["burst"], 0, 1)


def test_the_hidden_link_of_the_email_is_a_honeypot(workspace, nps):
    _, invitation = nps
    client = host_client(workspace)
    probe = client.get(f"/s/{invitation.token}/h")
    assert (probe.status_code, probe.content) == (204, b"")
    assert "no-store" in probe["Cache-Control"]
    assert _invitation(workspace, invitation).bot_reasons == ["honeypot"]
    page = client.get(f"/s/{invitation.token}?score=9")
    stamp = re.search(r'name="shown" value="([^"]+)"', page.content.decode()).group(1)
    assert scanner.submission_reasons(stamp=stamp, user_agent=BROWSER_AGENT,
                                      now=timezone.now() + timedelta(seconds=5)) == ["honeypot"]
    assert _invitation(workspace, invitation).provisional_score is None
    # Unknown or malformed tokens: the same empty answer, nothing recorded anywhere.
    assert client.get("/s/" + "Z" * 32 + "/h").status_code == 204
    assert client.get("/s/bad/h").status_code == 204


@pytest.mark.parametrize("agent", ["", "python-requests/2.32.3", "curl/8.5.0", "Go-http-client/1.1",
                                   "Mozilla/5.0 (compatible; Proofpoint URL Defense)", "Microsoft Office/16.0 SafeLinks"])
def test_empty_or_known_scanner_user_agents(workspace, nps, agent):
    _, invitation = nps
    host_client(workspace, user_agent=agent).get(f"/s/{invitation.token}?score=9")
    row = _invitation(workspace, invitation)
    assert (row.bot_reasons, row.provisional_score) == (["scanner_user_agent"], None)


def test_submission_reasons():
    now = timezone.now()
    read = scanner.shown_stamp(reasons=[], now=now - timedelta(seconds=5))
    assert scanner.submission_reasons(stamp=read, user_agent=BROWSER_AGENT, now=now) == []
    # The page shown a second ago (under the 1.5 s minimum dwell), no page at all, or a
    # stamp tampered with: the form was not read by a person.
    fresh = scanner.shown_stamp(reasons=[], now=now - timedelta(seconds=1))
    assert scanner.submission_reasons(stamp=fresh, user_agent=BROWSER_AGENT, now=now) == ["no_dwell"]
    assert scanner.submission_reasons(stamp=None, user_agent=BROWSER_AGENT, now=now) == ["no_dwell"]
    assert scanner.submission_reasons(stamp=read[:-2] + "xx", user_agent=BROWSER_AGENT, now=now) == ["no_dwell"]
    # The reasons of the GET that rendered the page travel with the form (signed).
    burst = scanner.shown_stamp(reasons=["burst", "made-up"], now=now - timedelta(seconds=5))
    assert scanner.submission_reasons(stamp=burst, user_agent="", now=now) == ["burst", "scanner_user_agent"]
    sent = now - timedelta(seconds=10)
    assert scanner.submission_reasons(stamp=read, user_agent=BROWSER_AGENT, sent_at=sent, window=30, now=now) == [
        "early_submit"]
    assert scanner.submission_reasons(stamp=read, user_agent=BROWSER_AGENT, sent_at=sent, window=5, now=now) == []


# ---------------------------------------------------------------- held responses

def test_a_suspect_submission_is_kept_but_held_out_of_every_figure(workspace, nps):
    survey, invitation = nps
    scanner_client = host_client(workspace, user_agent="")
    held = scanner_client.post(f"/s/{invitation.token}", {"q1": "3", "q2": "scanned", "shown": ""})
    assert held.status_code == 303  # a scanner learns nothing from the answer

    assert _responses(workspace) == [(3, "pending", ["no_dwell", "scanner_user_agent"])]
    with tenant_context(workspace):
        response = Response.objects.get()
        assert response.followup == ""  # nobody calls a customer about a scanner's score
        assert score_summary(survey=survey).responses == 0
        row = Invitation.objects.get(pk=invitation.pk)
        # Unanswered still: the person gets the reminder, the response rate does not count it.
        assert (row.status, row.responded_at) == ("sent", None)
    assert _nps_today(workspace, survey) is None

    # The person answers later, from a browser: their answer replaces the held one and counts.
    host_client(workspace).post(f"/s/{invitation.token}", {"q1": "2", "q2": "Too slow"})
    assert _responses(workspace) == [(2, "", [])]
    with tenant_context(workspace):
        response = Response.objects.get()
        assert (response.pk, response.comment, response.followup) == (response.pk, "Too slow", "open")
        row = Invitation.objects.get(pk=invitation.pk)
        assert (row.status, row.responded_at) == ("responded", response.responded_at)
        assert score_summary(survey=survey).responses == 1
    assert _nps_today(workspace, survey) == (-1, 1, -100.0)


def test_a_suspect_submission_never_overwrites_a_persons_answer(workspace, nps):
    survey, invitation = nps
    host_client(workspace).post(f"/s/{invitation.token}", {"q1": "9", "q2": "Great"})
    again = host_client(workspace, user_agent="python-requests/2.32").post(
        f"/s/{invitation.token}", {"q1": "0", "q2": "", "shown": ""})
    assert again.status_code == 200
    assert "Please check your answers and press the button again." in again.content.decode()
    assert _responses(workspace) == [(9, "", [])]
    with tenant_context(workspace):
        assert Response.objects.get().comment == "Great"


def test_a_suspect_public_link_submission_is_held(workspace):
    with tenant_context(workspace):
        survey = survey_make("csat")
    connection.set_schema_to_public()
    host_client(workspace, user_agent="").post(f"/p/{survey.public_id}", {"q1": "5"})
    host_client(workspace).post(f"/p/{survey.public_id}", {"q1": "4"})
    assert sorted(_responses(workspace)) == [(4, "", []), (5, "pending", ["scanner_user_agent"])]


# ---------------------------------------------------------------- review

@pytest.fixture
def held(workspace, nps):
    survey, invitation = nps
    with tenant_context(workspace):
        other = InvitationFactory(survey=survey, email="bo@example.test")
    scanner_client = host_client(workspace, user_agent="")
    for token, score in ((invitation.token, 10), (other.token, 1)):
        scanner_client.post(f"/s/{token}", {"q1": str(score), "shown": ""})
    with tenant_context(workspace):
        return survey, {r.score: r for r in Response.objects.all()}


def test_only_team_leads_review_held_responses(workspace, held, make_member):
    for role in ("agent", "viewer"):
        client = host_client(workspace, make_member(role))
        assert client.get("/surveys/flagged/").status_code == 403
        assert client.post("/surveys/flagged/", {"decision": "accepted", "response": str(held[1][10].pk)}).status_code == 403
    assert [review for _, review, _ in _responses(workspace)] == ["pending", "pending"]


def test_the_review_page_lists_held_responses_with_their_reasons(workspace, held):
    client = host_client(workspace, workspace.lead)
    page = client.get("/surveys/flagged/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Held for review (2)" in html and "Rejected (0)" in html and "Accepted (0)" in html
    assert html.count("No browser User-Agent (scanner or HTTP library)") == 2
    assert html.count("Submitted without reading the page") == 2
    assert "ann@example.test" in html and "bo@example.test" in html
    assert 'aria-label="Accept the response of ann@example.test (Support NPS)"' in html
    assert "None yet." in client.get("/surveys/flagged/?status=accepted").content.decode()


def test_accepting_puts_a_response_back_in_the_kpis_and_recomputes(workspace, held, eager_tasks):
    survey, responses = held
    client = host_client(workspace, workspace.lead)
    assert _nps_today(workspace, survey) is None
    with eager_tasks(execute=True):
        done = client.post("/surveys/flagged/", {"decision": "accepted", "response": str(responses[10].pk),
                                                 "status": "pending"})
    assert done.status_code == 302 and done["Location"] == "/surveys/flagged/?status=pending"
    # The recompute ran as the worker would (eagerly here): the snapshot is there already.
    with tenant_context(workspace):
        row = KpiSnapshot.objects.get(kpi="nps", period_kind="day", period_start=timezone.localdate(),
                                      segment_kind="survey", segment=str(survey.pk))
        assert (row.numerator, row.denominator, row.value) == (1, 1, 100.0)
        accepted = Response.objects.get(pk=responses[10].pk)
        assert (accepted.review, accepted.reviewed_by_id) == ("accepted", workspace.lead.pk)
        assert accepted.invitation.status == "responded" and accepted.invitation.responded_at == accepted.responded_at
    followed = client.get("/surveys/flagged/?status=pending", follow=True).content.decode()
    assert "Held for review (1)" in followed and "Accepted (1)" in followed

    # The detractor is rejected: out for good, and no follow-up is opened for it.
    with eager_tasks(execute=True):
        page = client.post("/surveys/flagged/", {"decision": "rejected", "response": str(responses[1].pk)}, follow=True)
    assert "1 response rejected: it stays out of the KPIs." in page.content.decode()
    assert _nps_today(workspace, survey) == (1, 1, 100.0)
    with tenant_context(workspace):
        rejected = Response.objects.get(pk=responses[1].pk)
        assert (rejected.review, rejected.followup, rejected.invitation.status) == ("rejected", "", "sent")
    # Rejected after all? It can still be accepted; then the detractor's follow-up opens.
    with eager_tasks(execute=True):
        client.post("/surveys/flagged/", {"decision": "accepted", "response": str(responses[1].pk)})
    assert _nps_today(workspace, survey) == (0, 2, 0.0)
    with tenant_context(workspace):
        assert Response.objects.get(pk=responses[1].pk).followup == "open"


def test_a_bad_review_request_changes_nothing(workspace, held):
    client = host_client(workspace, workspace.lead)
    for data in ({"decision": "maybe", "response": str(held[1][10].pk)}, {"decision": "accepted"},
                 {"decision": "accepted", "response": "not-a-uuid"}):
        page = client.post("/surveys/flagged/", data, follow=True)
        assert page.status_code == 200
    assert [review for _, review, _ in _responses(workspace)] == ["pending", "pending"]


def test_the_api_says_whether_a_response_counts(workspace, held):
    from tests.helpers import api_key_client

    survey, _ = held
    body = api_key_client(workspace, "agent").get(f"/api/v1/surveys/{survey.pk}/responses").json()
    rows = sorted((row["score"], row["counted"], row["review"], row["review_reasons"]) for row in body["results"])
    assert rows == [(1, False, "pending", ["no_dwell", "scanner_user_agent"]),
                    (10, False, "pending", ["no_dwell", "scanner_user_agent"])]


# ---------------------------------------------------------------- a simulated scanner

class _Forms(HTMLParser):
    """The forms of a page with the values a browser would submit (hidden inputs, checked
    radios and boxes, textareas)."""

    def __init__(self):
        super().__init__()
        self.forms, self._textarea = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                               "data": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            if attrs.get("type") in ("radio", "checkbox") and "checked" not in attrs:
                return
            self.forms[-1]["data"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea" and self.forms:
            self._textarea = attrs.get("name")

    def handle_data(self, data):
        if self._textarea:
            self.forms[-1]["data"][self._textarea] = data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


@pytest.mark.parametrize("agent", [None, BROWSER_AGENT], ids=["no-user-agent", "browser-user-agent"])
def test_a_scanner_fetching_every_link_and_submitting_the_forms_records_nothing_in_nps(
        committed_workspace, live_server, settings, monkeypatch, agent):
    """Safe Links' way: as soon as the email is delivered, every link is fetched by a plain
    HTTP client (with no User-Agent, or pretending to be a browser), in well under a
    second, and every form found is submitted. Before this issue the eleven score GETs
    recorded the last one (10) as the answer: NPS +100 from a machine."""
    workspace = committed_workspace("scan")
    settings.EMAIL_BACKEND = "surveys.mail.OutboxBackend"
    settings.EMAIL_DELIVERY_BACKEND = None
    monkeypatch.setattr("surveys.services.invitations.invitations_send_later", lambda: None)
    monkeypatch.setattr("surveys.services.sending.invitations_send_later", lambda: None)
    port = live_server.url.rsplit(":", 1)[1]
    with tenant_context(workspace):
        survey = survey_make("nps", name="Scanned NPS")
        campaign_create(survey=survey, recipients=[{"email": "it@bank.test"}])
        assert invitations_send_due() == 1
        html = OutboxEmail.objects.get().html
        invitation = Invitation.objects.get()
    connection.set_schema_to_public()
    # The resolver here does not map *.localhost to loopback (browsers do): connect to
    # 127.0.0.1 and name the workspace in the Host header, as a scanner's request would.
    links = [link.replace("scan.localhost:8000/", f"127.0.0.1:{port}/")
             for link in re.findall(r'href="(http://scan\.localhost[^"]+)"', html)]
    assert len(links) == 13  # eleven scores, the hidden probe, unsubscribe

    session = requests.Session()
    session.headers["User-Agent"] = agent  # None: requests sends no User-Agent at all
    session.headers["Host"] = f"scan.localhost:{port}"
    started = time.monotonic()
    pages = [session.get(link, timeout=10) for link in links]
    fetched = time.monotonic() - started
    submitted = []
    for page in pages:
        parser = _Forms()
        parser.feed(page.text)
        for form in parser.forms:
            if form["method"] == "post":
                target = requests.compat.urljoin(page.url, form["action"] or page.url)
                submitted.append(session.post(target, data=form["data"], headers={"Referer": page.url}, timeout=10))
    assert fetched < 1.0, f"the scanner took {fetched:.2f}s"
    assert all(page.status_code in (200, 204) for page in pages)
    assert len(submitted) == 12 and all(answer.status_code in (200, 303) for answer in submitted)

    with tenant_context(workspace):
        invitation.refresh_from_db()
        # Nothing counts: no answer in NPS, the invitation still unanswered and subscribed.
        assert not Response.objects.counted().exists()
        assert (invitation.status, invitation.responded_at, invitation.provisional_score) == ("sent", None, None)
        expected = {"burst", "early_hit", "honeypot"} | ({"scanner_user_agent"} if agent is None else set())
        assert set(invitation.bot_reasons) == expected
        # What the scanner submitted is kept, held for review, with its reasons.
        [held] = Response.objects.all()
        assert held.review == "pending"
        # (No dwell too for the forms submitted within 1.5 s of their page; the last ones
        # come later, as from a slower scanner: delivery time and the link hits catch them.)
        assert {"early_submit", "early_hit"} <= set(held.review_reasons)
        kpis_recompute_touched()
        assert not KpiSnapshot.objects.filter(kpi="nps", denominator__gt=0).exists()
    connection.set_schema_to_public()
