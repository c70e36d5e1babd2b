"""Survey pages: answering. The public pages customers use, without signing in:
``/s/<token>`` (an invitation's link, ``?score=N`` from the email's buttons; ``/h`` the
email's hidden scanner probe), ``/p/<id>`` (the survey's shareable link) and its QR code.

These pages never read or write a session (a customer has none; nothing here looks at
``request.user`` or messages): what they remember lives in the link (the invitation
token) or in one signed cookie per survey (the public link's browser key).
"""
import io
import secrets

import segno
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from surveys.models import Invitation, Response, Survey, SurveySettings
from surveys.selectors.answering import (
    TOKEN_RE,
    UNKNOWN_SURVEY,
    Unavailable,
    invitation_for_token,
    response_form_values,
    survey_for_public_id,
    survey_questions,
    survey_score_question,
)
from surveys.services import scanner
from surveys.services.answering import HeldSubmission, response_save
from tenants.ratelimits import client_address

BROWSER_COOKIE_SALT = "surveys.public.browser-key"
BROWSER_COOKIE_AGE = 365 * 24 * 3600
QR_CACHE_SECONDS = 24 * 3600
TOO_MANY = Unavailable(429, "Too many answers at once",
                       "We received many answers from your network in a short time. Please try again in a few minutes.")
REFUSED_FORM = Unavailable(403, "Please reload the survey",
                           "Your answers could not be sent because the page had expired or your browser blocked "
                           "its security cookie. Reload the survey and send your answers again; if this keeps "
                           "happening, allow cookies for this site.")


def _see_other(url: str) -> HttpResponseRedirect:
    # 303: after a POST the browser GETs the next page, so reloading
    # it never sends the answers again.
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _unavailable(request, unavailable: Unavailable, **extra) -> HttpResponse:
    context = {"unavailable": unavailable, "branding": SurveySettings.load(), **extra}
    return render(request, "surveys/public/unavailable.html", context, status=unavailable.status)


def _posted_answers(request, questions) -> dict:
    """Every question of the form, answered or not: an empty value clears a stored answer
    (the form shows the stored answers, so what is submitted is the whole new state)."""
    return {q.key: request.POST.getlist(q.key) if q.kind == "multiple" else request.POST.get(q.key, "")
            for q in questions}


def _survey_page(request, *, survey, questions, answers, status=200, errors=None, branding=None,
                 **extra) -> HttpResponse:
    errors = dict(errors or {})
    context = {
        "survey": survey,
        "questions": questions,
        "branding": branding or SurveySettings.load(),
        "answers": answers,
        "errors": {k: v for k, v in errors.items() if k != "__all__"},
        "form_errors": errors.get("__all__", []),
        "preview": False,
        # The form posts back to the address it was shown at (the public link keeps its
        # ?channel=&agent= attribution this way).
        "action": request.path if "score" in request.GET else request.get_full_path(),
        **extra,
    }
    return render(request, "surveys/public/survey.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def answer(request, token):
    """An invitation's survey. A GET (the email's score buttons are links) never records an
    answer: link scanners fetch every link of an email. It shows the survey with the
    clicked score preselected and one button, and records the click as a signal on the
    invitation (surveys.services.scanner). The POST of that form is the answer; one that
    looks like a scanner's is kept but held for a team lead's review."""
    found = invitation_for_token(token)
    if isinstance(found, Unavailable):
        return _unavailable(request, found)
    invitation, survey = found, found.survey
    questions = survey_questions(survey)
    branding = SurveySettings.load()  # the page's branding and the scanner window, one read
    window = branding.scanner_window_seconds
    user_agent = request.headers.get("User-Agent", "")

    if request.method == "POST":
        answers = _posted_answers(request, questions)
        reasons = scanner.submission_reasons(stamp=request.POST.get("shown"), user_agent=user_agent,
                                             sent_at=invitation.sent_at, window=window)
        try:
            response_save(survey=survey, answers=answers, invitation=invitation, questions=questions,
                          flag_reasons=reasons)
        except ValidationError as error:
            return _survey_page(request, survey=survey, questions=questions, answers=answers, status=400,
                                errors=error.message_dict, edit_until=_edit_until(invitation), branding=branding,
                                shown=_stamp(request))
        except HeldSubmission:
            return _survey_page(request, survey=survey, questions=questions, answers=answers,
                                edit_until=_edit_until(invitation), branding=branding, confirm_again=True, shown=_stamp(request))
        return _see_other(reverse("surveys:answer_thanks", args=[token]))

    question = survey_score_question(questions)
    clicked, error = _clicked_score(request, question)
    reasons = scanner.invitation_hit(invitation=invitation, score=clicked, window=window,
                                     reasons=scanner.request_reasons(method=request.method, user_agent=user_agent))
    answers = response_form_values(response_filter={"invitation": invitation}) if invitation.responded_at else {}
    if clicked is not None:
        answers[question.key] = str(clicked)  # preselected: the button below confirms it
    return _survey_page(request, survey=survey, questions=questions, answers=answers, status=400 if error else 200,
                        errors=error, notice="That score could not be saved" if error else None,
                        clicked_score=clicked, edit_until=_edit_until(invitation), branding=branding,
                        shown=scanner.shown_stamp(reasons=reasons))


def _clicked_score(request, question) -> tuple[int | None, dict | None]:
    """The score of the email's button (``?score=N``), or the error to show for a bad one."""
    if "score" not in request.GET:
        return None, None
    if question is None:
        return None, {"__all__": ["This survey has no score question."]}
    low, high = question.score_range
    raw = request.GET["score"].strip()
    if raw.isascii() and raw.isdigit() and low <= int(raw) <= high:
        return int(raw), None
    return None, {question.key: [f"Choose a number from {low} to {high}."]}


def _stamp(request) -> str:
    return scanner.shown_stamp(reasons=scanner.request_reasons(method=request.method,
                                                               user_agent=request.headers.get("User-Agent", "")))


@require_http_methods(["GET", "HEAD"])
def answer_probe(request, token):
    """The email's hidden link: no person sees or clicks it, so whatever fetches it is a
    machine. Recorded on the invitation; the answer page then flags a score link opened
    right after it (``honeypot``)."""
    if TOKEN_RE.fullmatch(token):
        invitation = Invitation.objects.filter(token=token).only("pk").first()
        if invitation is not None:
            scanner.invitation_honeypot_hit(invitation=invitation)
    response = HttpResponse(status=204)
    patch_cache_control(response, no_store=True)
    return response


def _edit_until(invitation):
    return invitation.expires_at if invitation.responded_at else None


@never_cache
@require_http_methods(["GET", "HEAD"])
def answer_thanks(request, token):
    found = invitation_for_token(token)
    if isinstance(found, Unavailable):
        return _unavailable(request, found)
    if found.responded_at is None:
        return _see_other(reverse("surveys:answer", args=[token]))
    return render(request, "surveys/public/thanks.html", {
        "survey": found.survey, "branding": SurveySettings.load(),
        "edit_url": reverse("surveys:answer", args=[token]), "edit_until": found.expires_at})


def _cookie_name(survey: Survey) -> str:
    return f"pulse_survey_{survey.public_id}"


def _browser_key(request, survey: Survey) -> str | None:
    """The browser's key for this survey from its signed cookie; None if absent or tampered."""
    return request.get_signed_cookie(_cookie_name(survey), default=None, salt=BROWSER_COOKIE_SALT)


def _rate_limited(request, survey: Survey) -> bool:
    """Submissions per client address and survey (``SURVEY_PUBLIC_RATE``, e.g. "30/10m";
    empty: no limit), counted in the shared Redis cache so every web process agrees."""
    rate = getattr(settings, "SURVEY_PUBLIC_RATE", "30/10m") or None
    return is_ratelimited(request, group=f"surveys.public.{survey.public_id}", key=client_address, rate=rate,
                          method="POST", increment=True)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def public(request, public_id):
    found = survey_for_public_id(public_id)
    if isinstance(found, Unavailable):
        return _unavailable(request, found)
    survey = found
    questions = survey_questions(survey)
    key = _browser_key(request, survey)

    if request.method == "POST":
        if _rate_limited(request, survey):
            response = _unavailable(request, TOO_MANY)
            response["Retry-After"] = "600"
            return response
        answers = _posted_answers(request, questions)
        new_key = key or secrets.token_urlsafe(24)
        # A public link has no delivery time: only the request and the page's stamp judge.
        reasons = scanner.submission_reasons(stamp=request.POST.get("shown"),
                                             user_agent=request.headers.get("User-Agent", ""))
        try:
            response_save(survey=survey, answers=answers, browser_key=new_key, questions=questions,
                          channel=request.GET.get("channel", ""), agent=request.GET.get("agent", ""),
                          flag_reasons=reasons)
        except ValidationError as error:
            return _survey_page(request, survey=survey, questions=questions, answers=answers, status=400,
                                errors=error.message_dict, editing=key is not None, shown=_stamp(request))
        except HeldSubmission:
            return _survey_page(request, survey=survey, questions=questions, answers=answers,
                                editing=key is not None, confirm_again=True, shown=_stamp(request))
        response = _see_other(reverse("surveys:public_thanks", args=[public_id]))
        if key is None:
            # One response per browser: the key names this browser's response, HttpOnly
            # (no script reads it), Lax (sent when the customer follows the link from
            # elsewhere), limited to this survey's pages.
            response.set_signed_cookie(_cookie_name(survey), new_key, salt=BROWSER_COOKIE_SALT,
                                       max_age=BROWSER_COOKIE_AGE, path=reverse("surveys:public", args=[public_id]),
                                       httponly=True, samesite="Lax", secure=request.is_secure())
        return response

    answers = response_form_values(response_filter={"survey": survey, "browser_key": key}) if key else {}
    return _survey_page(request, survey=survey, questions=questions, answers=answers, editing=bool(answers),
                        shown=_stamp(request))


@never_cache
@require_http_methods(["GET", "HEAD"])
def public_thanks(request, public_id):
    found = survey_for_public_id(public_id)
    if isinstance(found, Unavailable):
        return _unavailable(request, found)
    key = _browser_key(request, found)
    if not key or not Response.objects.filter(survey=found, browser_key=key).exists():
        return _see_other(reverse("surveys:public", args=[public_id]))
    return render(request, "surveys/public/thanks.html", {
        "survey": found, "branding": SurveySettings.load(),
        "edit_url": reverse("surveys:public", args=[public_id]), "edit_until": None})


@require_http_methods(["GET", "HEAD"])
def qr(request, public_id):
    """The public link as a QR code (SVG, drawn by segno: no image library). Served for
    closed surveys too: a printed code then leads to the "survey closed" page."""
    survey = Survey.objects.filter(public_id=public_id).only("public_id").first() if len(public_id) <= 16 else None
    if survey is None:
        return _unavailable(request, UNKNOWN_SURVEY)
    url = connection.tenant.url + reverse("surveys:public", args=[survey.public_id])
    cache_key = f"surveys:qr:{url}"
    svg = cache.get(cache_key)
    if svg is None:
        svg = qr_svg(url)
        cache.set(cache_key, svg, QR_CACHE_SECONDS)
    response = HttpResponse(svg, content_type="image/svg+xml")
    patch_cache_control(response, public=True, max_age=QR_CACHE_SECONDS)
    return response


def qr_svg(url: str) -> str:
    """A regular QR code (``make_qr``: never a Micro QR, which phones read badly), medium
    error correction, the quiet zone the standard asks for."""
    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(buffer, kind="svg", scale=8, border=4, title="QR code of the survey link")
    return buffer.getvalue().decode()


PUBLIC_PAGES = {"answer", "answer_thanks", "public", "public_thanks"}


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``. On the public survey pages a refused form (blocked cookies,
    a page left open for days) gets a page asking to reload, never Django's technical
    page; everywhere else Django's own view answers."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.namespace == "surveys" and match.url_name in PUBLIC_PAGES:
        return _unavailable(request, REFUSED_FORM, retry_url=request.get_full_path())
    return django_csrf_failure(request, reason=reason)


urlpatterns = [
    path("s/<str:token>", answer, name="answer"),
    path("s/<str:token>/thanks", answer_thanks, name="answer_thanks"),
    path("s/<str:token>/h", answer_probe, name="answer_probe"),
    path("p/<str:public_id>", public, name="public"),
    path("p/<str:public_id>/thanks", public_thanks, name="public_thanks"),
    path("p/<str:public_id>/qr.svg", qr, name="qr"),
]
