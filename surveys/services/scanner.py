"""Scanner protection: telling a person's answer from an email link scanner's.

Microsoft Safe Links, Proofpoint, Mimecast and the like fetch every link of an email when
it is delivered (and again when it is opened); some also submit the forms they find and
run scripts. So:

- a GET of a survey link never records an answer. It shows the survey with the clicked
  score preselected and records only a *signal* on the invitation, in one UPDATE
  (``invitation_hit``): when the link was first and last hit, the first score clicked
  by what looked like a person (``provisional_score``, never counted in NPS/CSAT), and
  every bot reason seen;
- the answer is recorded by the page's POST form ("Confirm my score"). The page carries a
  signed "shown" stamp (``shown_stamp``) with the time it was rendered and the reasons of
  the GET that rendered it; a submission with bot reasons (``submission_reasons``) is
  kept but held for review (``Response.review = pending``), left out of every KPI until a
  team lead accepts it (``responses_review``).

Reasons (the names are shown to team leads and returned by the API):

- ``early_hit``: the link was opened within ``SurveySettings.scanner_window_seconds``
  of the email being sent (people rarely read that fast; scanners always do);
- ``burst``: another score link of the same email was opened seconds before (a person
  clicks one score; a scanner fetches all of them);
- ``honeypot``: the email's hidden link, which no person can see or click, was fetched
  shortly before;
- ``head_request``: a HEAD request (link checkers);
- ``scanner_user_agent``: no User-Agent, or a known scanner's or HTTP library's;
- ``no_dwell``: the form came back less than ``SURVEY_MIN_DWELL_SECONDS`` after it was
  shown, or without the page's stamp at all (a client that never rendered the page);
- ``early_submit``: the form was submitted within the scanner window of sending.
"""
import re
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ingestion.signals import records_written
from ingestion.touched import touched_days_record
from surveys.models import Invitation, Response, SurveySettings
from surveys.services.answering import FOLLOWUP_BANDS, invitations_mark_answered
from surveys.services.kpi_days import SURVEY_RESPONSES
from tenants.webhooks.events import webhook_response_created

EARLY_HIT = "early_hit"
BURST = "burst"
HONEYPOT = "honeypot"
HEAD_REQUEST = "head_request"
SCANNER_USER_AGENT = "scanner_user_agent"
NO_DWELL = "no_dwell"
EARLY_SUBMIT = "early_submit"
REASONS = {
    EARLY_HIT: "Opened within seconds of delivery",
    BURST: "Several score links opened within seconds",
    HONEYPOT: "The email's hidden link was fetched",
    HEAD_REQUEST: "HEAD request (link checker)",
    SCANNER_USER_AGENT: "No browser User-Agent (scanner or HTTP library)",
    NO_DWELL: "Submitted without reading the page",
    EARLY_SUBMIT: "Submitted within seconds of delivery",
}

# Seconds between two hits of different score links (or the honeypot and a score link) of
# one email that make a burst (the plain link is no score link: a person returning to
# change an answer opens it right after answering): a scanner fetches them all within a second or two.
BURST_SECONDS = 10
SHOWN_SALT = "surveys.answer.shown"

# Empty, or a scanner's or an HTTP library's User-Agent. Browsers all send "Mozilla/5.0
# (…)"; scanners that pretend to be one are caught by the other reasons.
_SCANNER_AGENT = re.compile(
    r"^\s*$|python-requests|python-urllib|aiohttp|httpx|curl/|wget|libwww|lwp-|go-http-client|java/|okhttp|"
    r"apache-httpclient|node-fetch|axios|undici|headlesschrome|phantomjs|bot\b|crawler|spider|scanner|"
    r"safelinks|safe links|proofpoint|mimecast|barracuda|urldefense|fireeye|symantec|forcepoint|"
    r"microsoft office|ms-office|outlook-|ms search|bingpreview|google-safety|googleimageproxy",
    re.IGNORECASE)


def is_scanner_agent(user_agent: str | None) -> bool:
    return bool(_SCANNER_AGENT.search(user_agent or ""))


def request_reasons(*, method: str, user_agent: str | None) -> list[str]:
    """The reasons a request shows by itself, whatever the invitation."""
    reasons = []
    if method == "HEAD":
        reasons.append(HEAD_REQUEST)
    if is_scanner_agent(user_agent):
        reasons.append(SCANNER_USER_AGENT)
    return reasons


def scanner_window_seconds() -> int:
    return SurveySettings.load().scanner_window_seconds


# One statement: lock the invitation, work out this hit's reasons from what the link saw
# before (``old``), store the hit and return those reasons. The provisional score is the
# first score of a hit without reasons: a scanner's fetch of the eleven links is no intent.
_HIT = """
    WITH old AS (
        SELECT id, sent_at, last_hit_at, last_hit_score, honeypot_at
        FROM surveys_invitation WHERE id = %(id)s FOR UPDATE
    ), hit AS (
        SELECT old.id, array_remove(ARRAY[
            CASE WHEN old.sent_at IS NOT NULL AND %(now)s < old.sent_at + make_interval(secs => %(window)s)
                 THEN 'early_hit' END,
            CASE WHEN old.last_hit_at IS NOT NULL AND %(now)s < old.last_hit_at + make_interval(secs => %(burst)s)
                      AND old.last_hit_score <> %(score)s::smallint THEN 'burst' END,
            CASE WHEN old.honeypot_at IS NOT NULL AND %(now)s < old.honeypot_at + make_interval(secs => %(burst)s)
                 THEN 'honeypot' END
        ]::text[] || %(reasons)s::text[], NULL) AS reasons
        FROM old
    )
    UPDATE surveys_invitation AS i SET
        first_hit_at = coalesce(i.first_hit_at, %(now)s),
        last_hit_at = %(now)s,
        last_hit_score = %(score)s::smallint,
        provisional_score = CASE WHEN cardinality(hit.reasons) = 0 THEN coalesce(i.provisional_score, %(score)s::smallint)
                                 ELSE i.provisional_score END,
        bot_reasons = to_jsonb(ARRAY(
            SELECT DISTINCT reason FROM unnest(ARRAY(SELECT jsonb_array_elements_text(i.bot_reasons)) || hit.reasons)
            AS reason ORDER BY reason))
    FROM hit WHERE i.id = hit.id
    RETURNING hit.reasons
"""


def invitation_hit(*, invitation: Invitation, score: int | None, reasons: list[str],
                   now: datetime | None = None, window: int | None = None) -> list[str]:
    """Record that the survey link of ``invitation`` was opened (``score``: the score link,
    None for the plain link) by a request showing ``reasons`` by itself; return every
    reason of this hit (sorted). One statement, atomic by itself."""
    now = now or timezone.now()
    window = scanner_window_seconds() if window is None else window
    with connection.cursor() as cursor:
        cursor.execute(_HIT, {"id": invitation.pk, "now": now, "window": window, "burst": BURST_SECONDS,
                              "score": score, "reasons": list(reasons)})
        row = cursor.fetchone()
    return sorted(row[0]) if row else sorted(reasons)


def invitation_honeypot_hit(*, invitation: Invitation, now: datetime | None = None) -> None:
    """The email's hidden link was fetched: only a machine does that."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("""
            UPDATE surveys_invitation SET honeypot_at = %s, bot_reasons = to_jsonb(ARRAY(
                SELECT DISTINCT reason FROM unnest(ARRAY(SELECT jsonb_array_elements_text(bot_reasons)) || '{honeypot}'::text[])
                AS reason ORDER BY reason))
            WHERE id = %s""", [now, invitation.pk])


def shown_stamp(*, reasons: list[str], now: datetime | None = None) -> str:
    """The signed stamp the survey form carries: when the page was rendered, and the
    reasons of the request that rendered it. Signed, so a client cannot backdate it."""
    now = now or timezone.now()
    return signing.dumps({"t": now.timestamp(), "r": sorted(reasons)}, salt=SHOWN_SALT, compress=True)


def submission_reasons(*, stamp: str | None, user_agent: str | None, sent_at: datetime | None = None,
                       window: int = 0, now: datetime | None = None) -> list[str]:
    """Every reason a submitted form is suspect (sorted; empty: a person's answer)."""
    now = now or timezone.now()
    reasons = set(request_reasons(method="POST", user_agent=user_agent))
    try:
        shown = signing.loads(stamp or "", salt=SHOWN_SALT)
        shown_at, reasons_shown = float(shown["t"]), [str(reason) for reason in shown["r"]]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        shown_at, reasons_shown = None, []
    minimum = settings.SURVEY_MIN_DWELL_SECONDS
    if shown_at is None or now.timestamp() - shown_at < minimum:
        reasons.add(NO_DWELL)
    reasons.update(reason for reason in reasons_shown if reason in REASONS)
    if sent_at is not None and (now - sent_at).total_seconds() < window:
        reasons.add(EARLY_SUBMIT)
    return sorted(reasons)


def _followups_refresh(*, response_ids: list, accepted: bool) -> None:
    """A held response opened no follow-up: an accepted detractor (or unhappy) one opens
    it now; a rejected one closes the follow-up nobody took on yet."""
    if not accepted:
        Response.objects.filter(pk__in=response_ids, followup=Response.FollowUp.OPEN,
                                followup_assignee__isnull=True).update(followup=Response.FollowUp.NONE)
        return
    in_band = Q()
    for kind, scores in FOLLOWUP_BANDS.items():
        in_band |= Q(score_kind=kind, score__gte=scores.start, score__lt=scores.stop)
    Response.objects.filter(in_band, pk__in=response_ids, followup=Response.FollowUp.NONE).update(
        followup=Response.FollowUp.OPEN)


def reason_labels(reasons) -> list[str]:
    return [REASONS.get(reason, reason) for reason in reasons]


def responses_review(*, response_ids: list, decision: str, user, now: datetime | None = None) -> int:
    """A team lead's decision on held responses: ``accepted`` puts them in the KPIs,
    ``rejected`` keeps them out for good. The KPI days of the responses are marked
    touched, so the engine's next pass (or the recompute enqueued here) includes or drops
    them; each response accepted sends the ``survey.response.created`` webhook it did not
    send while held. Returns how many responses changed."""
    if decision not in (Response.Review.ACCEPTED, Response.Review.REJECTED):
        raise ValueError(f"unknown review decision {decision!r}")
    now = now or timezone.now()
    with transaction.atomic():
        changed = list(Response.objects.filter(pk__in=response_ids).exclude(review__in=("", decision))
                       .select_for_update().values_list("pk", "responded_at"))
        if not changed:
            return 0
        ids = [pk for pk, _ in changed]
        Response.objects.filter(pk__in=ids).update(review=decision, reviewed_by=user, reviewed_at=now)
        touched_days_record(dataset=SURVEY_RESPONSES, moments=[moment for _, moment in changed])
        # An accepted response answers its invitation (response rate, no more reminders);
        # a rejected one never did (or no longer does).
        invitations_mark_answered(response_ids=ids, answered=decision == Response.Review.ACCEPTED)
        _followups_refresh(response_ids=ids, accepted=decision == Response.Review.ACCEPTED)
        if decision == Response.Review.ACCEPTED:
            # Held, nobody was told of it (a scanner's score is no customer's answer);
            # accepted, it is one now: integrators hear of it as of any new answer.
            for response in Response.objects.select_related("survey", "invitation").filter(pk__in=ids).order_by("pk"):
                webhook_response_created(response=response)
        # The same signal an import sends: the KPI engine queues its touched-days
        # recompute after commit, so the team lead sees the change in seconds, not at the
        # next 5-minute pass.
        transaction.on_commit(lambda: records_written.send(sender=Response, dataset=SURVEY_RESPONSES))
    return len(changed)
