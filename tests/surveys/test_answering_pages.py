"""The public survey pages: /s/<token> (invitation link, one-click score), /p/<id> (public
link), the QR code, friendly 404/410/429/403 pages, no session."""
import re
import time
from datetime import timedelta

import pytest
import segno
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from surveys.models import Answer, Invitation, Response
from surveys.views.answering import qr_svg
from tests.helpers import host_client
from tests.surveys.factories import InvitationFactory, survey_make


@pytest.fixture
def nps(workspace):
    with tenant_context(workspace):
        survey = survey_make("nps", name="Our support", thank_you="Merci, we read every answer.")
        invitation = InvitationFactory(survey=survey, email="ann@example.test")
    connection.set_schema_to_public()
    return survey, invitation


def _in(workspace, fn):
    with tenant_context(workspace):
        return fn()


def _shown(html: str) -> str:
    return re.search(r'name="shown" value="([^"]+)"', html).group(1)


@pytest.fixture
def dwell(settings):
    """A short minimum dwell: the page's own stamp is accepted after a short sleep."""
    settings.SURVEY_MIN_DWELL_SECONDS = 0.2
    return lambda: time.sleep(0.25)


def test_the_score_link_preselects_the_score_and_records_only_a_signal(workspace, nps):
    survey, invitation = nps
    client = host_client(workspace)

    clicked = client.get(f"/s/{invitation.token}", {"score": "9"})

    assert clicked.status_code == 200
    html = clicked.content.decode()
    assert "You chose 9." in html and "Press “Confirm my score” below to send it" in html
    assert re.search(r'id="q1-9" name="q1" value="9" checked', html)
    assert ">Confirm my score</button>" in html
    assert 'method="post"' in html and 'name="csrfmiddlewaretoken"' in html
    with tenant_context(workspace):
        assert Response.objects.count() == 0 and Answer.objects.count() == 0  # a GET never answers
        invitation.refresh_from_db()
        assert invitation.status == "sent" and invitation.responded_at is None
        # The first intent is kept on the invitation as a signal, never in NPS.
        assert (invitation.provisional_score, invitation.last_hit_score, invitation.bot_reasons) == (9, 9, [])
        assert invitation.first_hit_at == invitation.last_hit_at is not None


def test_a_click_and_a_confirm_record_exactly_one_answer(workspace, nps, dwell):
    survey, invitation = nps
    client = host_client(workspace)
    page = client.get(f"/s/{invitation.token}", {"score": "9"}).content.decode()
    dwell()

    confirmed = client.post(f"/s/{invitation.token}", {"q1": "9", "q2": "", "shown": _shown(page)})

    assert confirmed.status_code == 303 and confirmed["Location"] == f"/s/{invitation.token}/thanks"
    with tenant_context(workspace):
        response = Response.objects.get()
        assert (response.score, response.score_kind, response.source, response.email) == (9, "nps", "email", "ann@example.test")
        assert (response.review, response.review_reasons) == ("", [])  # a person's answer: it counts
        assert response.invitation_id == invitation.pk
        assert list(Answer.objects.values_list("question__key", "score")) == [("q1", 9)]
        invitation.refresh_from_db()
        assert invitation.status == "responded" and invitation.responded_at == response.responded_at
        assert list(Response.objects.counted().values_list("score", flat=True)) == [9]


def test_re_clicking_another_score_changes_the_answer_rather_than_adding_one(workspace, nps, dwell):
    survey, invitation = nps
    client = host_client(workspace)
    page = client.get(f"/s/{invitation.token}", {"score": "3"}).content.decode()
    dwell()
    client.post(f"/s/{invitation.token}", {"q1": "3", "shown": _shown(page)})
    with tenant_context(workspace):
        first = Response.objects.get()
        # A person changes their mind later, not within the seconds of a scanner's burst
        # of score links (test_scanner.py shows a quick second score link being held).
        Invitation.objects.filter(pk=invitation.pk).update(last_hit_at=timezone.now() - timedelta(minutes=5))
    again = client.get(f"/s/{invitation.token}", {"score": "8"}).content.decode()
    assert re.search(r'id="q1-8" name="q1" value="8" checked', again)
    assert _in(workspace, lambda: Response.objects.get().score) == 3  # the click alone changes nothing
    dwell()
    client.post(f"/s/{invitation.token}", {"q1": "8", "shown": _shown(again)})
    with tenant_context(workspace):
        response = Response.objects.get()
        assert (response.pk, response.score, response.responded_at, response.review) == (first.pk, 8, first.responded_at, "")
        assert Answer.objects.count() == 1
        assert Invitation.objects.get().provisional_score == 3  # the first intent stays the first


def test_head_on_the_score_link_records_nothing(workspace, nps):
    _, invitation = nps
    assert host_client(workspace).head(f"/s/{invitation.token}?score=9").status_code == 200
    assert _in(workspace, Response.objects.count) == 0
    with tenant_context(workspace):
        invitation.refresh_from_db()
        assert (invitation.provisional_score, invitation.bot_reasons) == (None, ["head_request"])


@pytest.mark.parametrize("raw", ["11", "-1", "abc", "", "9.5", "1e1"])
def test_a_bad_score_gets_a_clear_message_and_records_nothing(workspace, nps, raw):
    _, invitation = nps
    page = host_client(workspace).get(f"/s/{invitation.token}", {"score": raw})

    assert page.status_code == 400
    html = page.content.decode()
    assert "That score could not be saved" in html
    assert "Choose a number from 0 to 10." in html
    assert 'aria-describedby="q1-error"' in html
    assert _in(workspace, Response.objects.count) == 0
    assert _in(workspace, lambda: Invitation.objects.get().status) == "sent"


def test_submit_shows_thanks_then_answers_can_be_edited_until_expiry_then_410(workspace, nps):
    survey, invitation = nps
    client = host_client(workspace)
    sent = client.post(f"/s/{invitation.token}", {"q1": "6", "q2": "Slow replies"})
    assert sent.status_code == 303
    assert sent["Location"] == f"/s/{invitation.token}/thanks"
    thanks = client.get(sent["Location"])
    assert thanks.status_code == 200
    html = thanks.content.decode()
    assert "Merci, we read every answer." in html
    assert f'href="/s/{invitation.token}"' in html
    # 28 days after the invitation was scheduled, in the workspace's time zone.
    with tenant_context(workspace):
        until = timezone.localtime(invitation.expires_at, timezone=__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert f"You can change your answers until {until.day} {until:%B} {until.year}." in html

    edit = client.get(f"/s/{invitation.token}")
    assert "Slow replies</textarea>" in edit.content.decode()
    assert client.post(f"/s/{invitation.token}", {"q1": "10", "q2": "Better now"}).status_code == 303
    with tenant_context(workspace):
        response = Response.objects.get()
        assert (response.score, response.comment) == (10, "Better now")
        assert response.completed_at is not None
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    for page in (client.get(f"/s/{invitation.token}"), client.post(f"/s/{invitation.token}", {"q1": "1"}),
                 client.get(f"/s/{invitation.token}?score=1"), client.get(f"/s/{invitation.token}/thanks")):
        assert page.status_code == 410
        assert "This survey link has expired" in page.content.decode()
    assert _in(workspace, lambda: Response.objects.get().score) == 10


def test_expired_status_is_410_even_before_expires_at(workspace, nps):
    _, invitation = nps
    _in(workspace, lambda: Invitation.objects.filter(pk=invitation.pk).update(status="expired"))
    assert host_client(workspace).get(f"/s/{invitation.token}").status_code == 410


@pytest.mark.parametrize("token", ["A" * 32, "short", "x" * 65, "not a token!"])
def test_unknown_or_malformed_tokens_get_a_friendly_404(workspace, nps, token, settings):
    assert settings.DEBUG is False
    page = host_client(workspace).get(f"/s/{token}")
    assert page.status_code == 404
    html = page.content.decode()
    assert "This survey link does not work" in html
    assert "Traceback" not in html
    assert '<html lang="en">' in html


def test_a_nul_in_the_link_is_refused_before_the_token_is_looked_up(workspace, nps):
    """Issue #15: a NUL byte never reaches the database (tenants/inputs.py)."""
    page = host_client(workspace).get("/s/%00")
    assert page.status_code == 400
    assert "The address contains a NUL character (U+0000), which cannot be stored." in page.content.decode()


def test_a_tampered_token_is_unknown(workspace, nps):
    _, invitation = nps
    token = invitation.token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert host_client(workspace).get(f"/s/{tampered}?score=9").status_code == 404
    assert _in(workspace, Response.objects.count) == 0


def test_a_closed_survey_refuses_new_answers_but_keeps_given_ones_editable(workspace, nps):
    survey, invitation = nps
    with tenant_context(workspace):
        answered = InvitationFactory(survey=survey)
    client = host_client(workspace)
    client.post(f"/s/{answered.token}", {"q1": "7"})
    _in(workspace, lambda: type(survey).objects.filter(pk=survey.pk).update(closed_at=timezone.now()))

    for page in (client.get(f"/s/{invitation.token}"), client.get(f"/s/{invitation.token}?score=9"),
                 client.post(f"/s/{invitation.token}", {"q1": "9"})):
        assert page.status_code == 410
        assert "This survey is closed" in page.content.decode()
    assert client.post(f"/s/{answered.token}", {"q1": "8", "q2": ""}).status_code == 303
    assert _in(workspace, lambda: list(Response.objects.values_list("score", flat=True))) == [8]


def test_a_required_question_left_blank_shows_errors_next_to_it_and_saves_nothing(workspace, nps):
    _, invitation = nps
    page = host_client(workspace).post(f"/s/{invitation.token}", {"q1": "", "q2": "No score given"})

    assert page.status_code == 400
    html = page.content.decode()
    assert '<div class="error-summary" role="alert" tabindex="-1" autofocus' in html
    assert 'href="#q1-0">How likely are you to recommend us to a friend or colleague? — Answer this question.</a>' in html
    assert '<p class="question-error" id="q1-error"><span class="visually-hidden">Error: </span>Answer this question.</p>' in html
    assert "No score given</textarea>" in html  # what was typed is kept
    assert "<title>Error: " in html
    assert _in(workspace, Response.objects.count) == 0


def test_the_page_is_accessible_markup(workspace, nps):
    _, invitation = nps
    html = host_client(workspace).get(f"/s/{invitation.token}").content.decode()
    assert '<html lang="en">' in html
    assert html.count("<fieldset") == 1 and "<legend" in html  # the score; the comment has a <label>
    assert '<label class="question-text" for="q2">' in html
    assert html.count('type="radio"') == 11
    assert '<span class="visually-hidden"> — Not at all likely</span>' in html
    assert '<span class="visually-hidden"> — Extremely likely</span>' in html
    assert "csrfmiddlewaretoken" in html
    assert "/static/css/survey.css" in html
    assert "http://" not in html.replace("http://acme.localhost", "")  # nothing from elsewhere
    assert 'class="mainnav"' not in html  # no app chrome


def test_branding_colour_and_workspace_name(workspace, nps):
    _, invitation = nps
    with tenant_context(workspace):
        from surveys.models import SurveySettings

        SurveySettings.objects.update_or_create(pk=1, defaults={"brand_color": "#ffd400"})
    html = host_client(workspace).get(f"/s/{invitation.token}").content.decode()
    # A light colour gets dark text on it.
    assert 'style="--brand: #ffd400; --brand-text: #111111;"' in html
    assert '<span class="survey-workspace">Acme</span>' in html


# ---------------------------------------------------------------- public link

@pytest.fixture
def link(workspace):
    with tenant_context(workspace):
        survey = survey_make("csat", name="How did we do?")
    connection.set_schema_to_public()
    return survey


def test_public_link_attributes_the_response_and_keeps_one_response_per_browser(workspace, link):
    client = host_client(workspace)
    url = f"/p/{link.public_id}?channel=chat&agent=Ann%20Agent"
    page = client.get(url)
    assert page.status_code == 200
    assert f'action="/p/{link.public_id}?channel=chat&amp;agent=Ann%20Agent"' in page.content.decode()

    sent = client.post(url, {"q1": "2", "q2": "Too slow"})
    assert sent.status_code == 303
    assert sent["Location"] == f"/p/{link.public_id}/thanks"
    cookie = sent.cookies[f"pulse_survey_{link.public_id}"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == f"/p/{link.public_id}"
    assert client.get(sent["Location"]).status_code == 200

    # Coming back: the answers are shown, and saving edits the same response.
    again = client.get(f"/p/{link.public_id}")
    assert re.search(r'id="q1-1" name="q1" value="2" checked', again.content.decode())
    assert "Too slow</textarea>" in again.content.decode()
    assert client.post(f"/p/{link.public_id}?channel=email", {"q1": "4", "q2": "OK"}).status_code == 303
    with tenant_context(workspace):
        response = Response.objects.get()
        assert (response.source, response.channel, response.agent, response.score, response.score_kind,
                response.comment, response.followup) == ("link", "chat", "Ann Agent", 4, "csat", "OK", "")
        assert len(response.browser_key) == 32

    other = host_client(workspace)
    assert other.post(f"/p/{link.public_id}", {"q1": "5"}).status_code == 303
    with tenant_context(workspace):
        assert sorted(Response.objects.values_list("score", "channel")) == [(4, "chat"), (5, "")]


def test_a_tampered_browser_cookie_starts_a_new_response(workspace, link):
    client = host_client(workspace)
    client.post(f"/p/{link.public_id}", {"q1": "5"})
    client.cookies[f"pulse_survey_{link.public_id}"] = "forged:value"
    assert "checked" not in client.get(f"/p/{link.public_id}").content.decode()
    client.post(f"/p/{link.public_id}", {"q1": "1"})
    assert _in(workspace, Response.objects.count) == 2


def test_long_attribution_is_cut_to_the_fields_sizes(workspace, link):
    host_client(workspace).post(f"/p/{link.public_id}?channel={'c' * 80}&agent={'a' * 300}", {"q1": "3"})
    with tenant_context(workspace):
        assert Response.objects.values_list("channel", "agent").get() == ("c" * 50, "a" * 255)


def test_public_link_of_a_closed_or_unknown_survey(workspace, link):
    client = host_client(workspace)
    unknown = client.get("/p/nope12345678")
    assert unknown.status_code == 404
    assert "This survey does not exist" in unknown.content.decode()
    client.post(f"/p/{link.public_id}", {"q1": "5"})
    _in(workspace, lambda: type(link).objects.filter(pk=link.pk).update(closed_at=timezone.now()))
    for page in (client.get(f"/p/{link.public_id}"), client.post(f"/p/{link.public_id}", {"q1": "1"})):
        assert page.status_code == 410
        assert "This survey is closed" in page.content.decode()
    assert _in(workspace, lambda: list(Response.objects.values_list("score", flat=True))) == [5]


def test_public_submissions_are_rate_limited_per_client_with_a_friendly_429(workspace, link, settings):
    settings.SURVEY_PUBLIC_RATE = "3/10m"
    for n in range(3):
        assert host_client(workspace).post(f"/p/{link.public_id}", {"q1": "5"}, REMOTE_ADDR="10.0.0.1").status_code == 303
    limited = host_client(workspace).post(f"/p/{link.public_id}", {"q1": "5"}, REMOTE_ADDR="10.0.0.1")
    assert limited.status_code == 429
    assert limited["Retry-After"] == "600"
    assert "Too many answers at once" in limited.content.decode()
    # Another address is not held back by the first one.
    assert host_client(workspace).post(f"/p/{link.public_id}", {"q1": "5"}, REMOTE_ADDR="10.0.0.2").status_code == 303
    assert _in(workspace, Response.objects.count) == 4


def test_behind_a_proxy_the_limit_is_per_forwarded_client(workspace, link, settings):
    settings.SURVEY_PUBLIC_RATE = "2/10m"
    settings.PROXY_HOPS = 1

    def post(forwarded):
        return host_client(workspace).post(f"/p/{link.public_id}", {"q1": "5"}, REMOTE_ADDR="10.9.9.9",
                                           HTTP_X_FORWARDED_FOR=forwarded).status_code

    # What the client put in front of the proxy's entry does not give it a new allowance.
    assert [post("6.6.6.6, 203.0.113.7"), post("7.7.7.7, 203.0.113.7"), post("203.0.113.7")] == [303, 303, 429]
    assert post("203.0.113.8") == 303  # another customer behind the same proxy


def test_the_rate_limit_can_be_lifted(workspace, link, settings):
    settings.SURVEY_PUBLIC_RATE = ""
    for _ in range(5):
        assert host_client(workspace).post(f"/p/{link.public_id}", {"q1": "4"}).status_code == 303


def _qr_modules(svg: str, border: int = 4) -> list[list[bool]]:
    """The dark modules an SVG from segno draws: its path is one horizontal run per "h",
    moved by absolute "M" and relative "m" steps, half a module down from each row's top."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    size = int(re.search(r'width="(\d+)"', svg).group(1)) // 8 - 2 * border
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for op, args in re.findall(r"([MmHh])([-\d.\s]+)", path):
        numbers = [float(n) for n in args.split()]
        if op == "M":
            x, y = numbers
        elif op == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            for column in range(int(x), int(x + numbers[0])):
                grid[int(y - 0.5) - border][column - border] = True
            x += numbers[0]
    return grid


def test_qr_code_is_the_segno_svg_of_the_absolute_public_url(workspace, link):
    page = host_client(workspace).get(f"/p/{link.public_id}/qr.svg")
    assert page.status_code == 200
    assert page["Content-Type"] == "image/svg+xml"
    assert "max-age=86400" in page["Cache-Control"]
    url = f"http://acme.localhost:8000/p/{link.public_id}"
    assert page.content.decode() == qr_svg(url)
    # The drawn modules are exactly the QR code of that URL (a regular code, not Micro QR).
    qr = segno.make_qr(url, error="m")
    assert qr.is_micro is False
    assert _qr_modules(page.content.decode()) == [[bool(module) for module in row] for row in qr.matrix]
    assert host_client(workspace).get("/p/unknown1234/qr.svg").status_code == 404


# ---------------------------------------------------------------- CSRF, sessions

def test_a_refused_form_gets_a_page_asking_to_reload(workspace, nps, link):
    _, invitation = nps
    client = Client(HTTP_HOST=workspace.domain_name, enforce_csrf_checks=True)
    for url in (f"/s/{invitation.token}", f"/p/{link.public_id}?channel=web"):
        page = client.post(url, {"q1": "4"})
        assert page.status_code == 403
        html = page.content.decode()
        assert "Please reload the survey" in html
        assert f'href="{url.replace("&", "&amp;")}"' in html
    assert _in(workspace, Response.objects.count) == 0

    # With the cookie and token of the page, it goes through.
    form = client.get(f"/s/{invitation.token}").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    assert client.post(f"/s/{invitation.token}", {"q1": "4", "csrfmiddlewaretoken": token}).status_code == 303


def test_other_pages_keep_djangos_csrf_failure(workspace):
    client = Client(HTTP_HOST=workspace.domain_name, enforce_csrf_checks=True)
    page = client.post("/sign-in/", {"email": "x@y.z", "password": "p"})
    assert page.status_code == 403
    assert "Please reload the survey" not in page.content.decode()


def test_public_pages_never_touch_the_session(workspace, nps, link):
    _, invitation = nps
    client = host_client(workspace)
    with CaptureQueriesContext(connection) as queries:
        pages = [client.get(f"/s/{invitation.token}?score=9"), client.get(f"/s/{invitation.token}/h"),
                 client.post(f"/s/{invitation.token}", {"q1": "9"}), client.get(f"/s/{invitation.token}/thanks"),
                 client.get(f"/p/{link.public_id}"), client.post(f"/p/{link.public_id}", {"q1": "5"}),
                 client.get(f"/p/{link.public_id}/thanks"), client.get(f"/p/{link.public_id}/qr.svg"),
                 client.get("/s/" + "Z" * 32)]
    assert [p.status_code for p in pages] == [200, 204, 303, 200, 200, 303, 200, 200, 404]
    assert not [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
    assert all("sessionid" not in p.cookies for p in pages)
    assert "sessionid" not in client.cookies


def test_answer_post_and_score_click_take_a_handful_of_queries(workspace, nps, django_assert_num_queries):
    _, invitation = nps
    client = host_client(workspace)
    client.get("/s/" + "Z" * 32)  # the workspace's host is now cached
    # The score link: SET search_path, the invitation with its survey, the questions, the
    # settings (branding and scanner window), the click recorded on the invitation (one
    # statement); no answer is written.
    with django_assert_num_queries(5):
        page = client.get(f"/s/{invitation.token}?score=9")
        assert page.status_code == 200
    # The confirm: SET search_path, the invitation, the settings, then one statement
    # writing the response, its answer, the invitation and the KPI day; and who subscribes
    # to webhook events (read once, then cached: the next answers skip it).
    with django_assert_num_queries(5):
        assert client.post(f"/s/{invitation.token}", {"q1": "9", "q2": ""}).status_code == 303
    # An edit, in a transaction (a SAVEPOINT inside the test's own): SET search_path, the
    # invitation (questions are cached now), the settings, the response locked, its
    # answers, the answers written, the response updated, the KPI day (the score changed).
    with django_assert_num_queries(10):
        assert client.post(f"/s/{invitation.token}", {"q1": "8", "q2": "Fine"}).status_code == 303
    # The page: SET search_path, the invitation, the settings, the click recorded, the
    # stored answers.
    with django_assert_num_queries(5):
        assert client.get(f"/s/{invitation.token}").status_code == 200


def test_the_workspace_logo_replaces_its_name(workspace, nps):
    _, invitation = nps
    with tenant_context(workspace):
        from surveys.models import SurveySettings

        SurveySettings.objects.update_or_create(pk=1, defaults={"logo": "survey-logos/acme-logo.png"})
    html = host_client(workspace).get(f"/s/{invitation.token}").content.decode()
    assert '<img src="/survey-logo/acme-logo.png" alt="Acme" class="survey-logo">' in html
    assert "survey-workspace" not in html
