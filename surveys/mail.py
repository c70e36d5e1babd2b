"""Survey emails: rendering the invitation (and its reminder), and the Outbox backend.

Rendering is done once per survey and batch, with placeholders where each recipient's
values go (greeting, links carrying the token, expiry date, and in the pre-built MIME
bytes the To, Date and Message-ID headers); each message then costs a few byte
replacements instead of two template renders and a MIME serialisation (bench/surveys.py:
sending is bounded by SMTP round trips and the per-email commit, not by Django's email
classes).
"""
import base64
import html
import os
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from email.mime.base import MIMEBase
from email.utils import formataddr, formatdate, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import forbid_multi_line_headers
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from surveys.models import SCORE_RANGES, OutboxEmail, QuestionKind, Survey, SurveyKind, SurveySettings
from tenants.mail import MailCategory, mail_categorise, mail_category, mail_kept_in_outbox

# Placeholders rendered into the templates and replaced per recipient. The token is
# URL-safe base64 and the date is plain text, so they need no escaping; the greeting
# carries a customer's name and is escaped for the HTML part. The token's placeholder has
# a token's length (32), so headers holding it fold the same way once it is replaced.
TOKEN = "PULSETOKENPLACEHOLDERXXXXXXXXXXX"
GREETING = "PULSEGREETINGPLACEHOLDER"
EXPIRES = "PULSEEXPIRESPLACEHOLDER"
# Only in the pre-built MIME bytes (see InvitationEmail.message).
TO_ADDRESS = "pulse-to-placeholder@placeholder.invalid"
MESSAGE_ID = "<PULSEMSGID>"
DATE = "PULSEDATE"


DEFAULT_SUBJECTS = {
    SurveyKind.NPS: "How likely are you to recommend {workspace}?",
    SurveyKind.CSAT: "How did we do? Rate your experience with {workspace}",
    SurveyKind.CUSTOM: "{workspace} would like your opinion",
}
DEFAULT_INTROS = {
    SurveyKind.NPS: "We'd love to know what you think of {workspace}. It takes one click.",
    SurveyKind.CSAT: "Thanks for getting in touch with {workspace}. How was the help you received? It takes one click.",
    SurveyKind.CUSTOM: "{workspace} would like to hear from you: a few quick questions.",
}
DEFAULT_LABELS = {QuestionKind.NPS: ("Not at all likely", "Extremely likely"),
                  QuestionKind.CSAT: ("Very unsatisfied", "Very satisfied")}


def score_question(survey: Survey, questions: list | None = None):
    """The question whose score buttons go inside the email: the first NPS/CSAT question
    of an NPS or CSAT survey, or the first question of a custom survey when it is one."""
    questions = list(survey.questions.all()) if questions is None else questions
    if survey.kind in (SurveyKind.NPS, SurveyKind.CSAT):
        return next((q for q in questions if q.kind in SCORE_RANGES), None)
    if questions and questions[0].kind in SCORE_RANGES:
        return questions[0]
    return None


def _text_color_on(background: str) -> str:
    """Black or white text, whichever reads better on the brand colour (WCAG luminance)."""
    try:
        r, g, b = (int(background[i:i + 2], 16) / 255 for i in (1, 3, 5))
    except (ValueError, IndexError):
        return "#ffffff"

    def channel(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return "#111827" if luminance > 0.4 else "#ffffff"


def _address_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or settings.PULSE_BASE_DOMAIN


class _RawMessage:
    """What the SMTP backend asks of ``EmailMessage.message()``: the bytes to send."""

    def __init__(self, raw: bytes):
        self.raw = raw

    def as_bytes(self, unixfrom=False, linesep="\n"):
        return self.raw if linesep == "\r\n" else self.raw.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom=False, linesep="\n"):
        return self.as_bytes(linesep=linesep).decode("utf-8", "surrogateescape")


class _PreparedEmail(EmailMultiAlternatives):
    """An invitation whose MIME bytes were made from the survey's pre-built message;
    its attributes (to, subject, body, alternatives, headers) are the usual ones, for
    the Outbox and any other backend."""

    def __init__(self, *, raw: bytes, **kwargs):
        super().__init__(**kwargs)
        self._raw = raw

    def message(self):
        return _RawMessage(self._raw)


@dataclass
class InvitationEmail:
    """An invitation email of one survey, rendered once; ``message()`` fills in one
    recipient."""

    subject: str
    from_email: str
    reply_to: list[str]
    text: str
    html: str
    message_id_prefix: str
    unsubscribe_url: str
    time_zone: zoneinfo.ZoneInfo
    # The whole MIME message with placeholders (CRLF line ends), or None when its parts
    # are transfer-encoded (a line over 998 characters makes Django pick
    # quoted-printable, which could split a placeholder): then each message is built by
    # Django's email classes.
    raw: bytes | None = None

    def _values(self, invitation, expires_at: datetime) -> tuple[str, str, str, str]:
        # A name is one line: a line break in it must not start a header or a body line.
        name = " ".join(invitation.name.split())
        greeting = f"Hi {name}," if name else "Hello,"
        expires = timezone.localtime(expires_at, self.time_zone).strftime("%-d %B %Y")
        return name, greeting, expires, formataddr((name, invitation.email)) if name else invitation.email

    def _headers(self, invitation) -> dict:
        return {
            # RFC 2369 / RFC 8058: mail clients show their own "Unsubscribe" button and
            # POST "List-Unsubscribe=One-Click" to the URL (the /u/ view takes both).
            "List-Unsubscribe": f"<{self.unsubscribe_url.replace(TOKEN, invitation.token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # Stable per invitation (and per reminder): a retried hand-over to the
            # server is recognisable as the same message downstream.
            "Message-ID": self._message_id(invitation),
        }

    def _message_id(self, invitation) -> str:
        return f"<{self.message_id_prefix}.{invitation.pk}@{_address_domain()}>"

    def message(self, invitation, *, expires_at: datetime) -> EmailMultiAlternatives:
        name, greeting, expires, to = self._values(invitation, expires_at)
        token = invitation.token
        text = self.text.replace(TOKEN, token).replace(GREETING, greeting).replace(EXPIRES, expires)
        body = self.html.replace(TOKEN, token).replace(GREETING, html.escape(greeting)).replace(EXPIRES, expires)
        fields = dict(subject=self.subject, body=text, from_email=self.from_email, to=[to], reply_to=self.reply_to,
                      headers=self._headers(invitation))
        if self.raw is not None and len(token) == len(TOKEN):
            # The per-recipient values go into the pre-built bytes: a few replacements
            # instead of building and serialising a MIME tree (5x faster per message).
            to_header = forbid_multi_line_headers("To", to, "utf-8")[1]
            raw = (self.raw.replace(TOKEN.encode(), token.encode())
                   .replace(TO_ADDRESS.encode(), to_header.encode())
                   # Whole header values, written unfolded (a msg-id is never folded).
                   .replace(b"Message-ID: " + MESSAGE_ID.encode(), b"Message-ID: " + self._message_id(invitation).encode())
                   .replace(b"Date: " + DATE.encode(), b"Date: " + formatdate(localtime=settings.EMAIL_USE_LOCALTIME).encode())
                   .replace(EXPIRES.encode(), expires.encode())
                   .replace(GREETING.encode() + b"</p>", html.escape(greeting).encode() + b"</p>")
                   .replace(GREETING.encode(), greeting.encode()))
            message = _PreparedEmail(raw=raw, **fields)
        else:
            message = EmailMultiAlternatives(**fields)
        message.attach_alternative(body, "text/html")
        # Read by OutboxBackend to link the kept copy to its invitation.
        message.invitation_id = invitation.pk
        return mail_categorise(message, MailCategory.SURVEY)

    def build_raw(self) -> None:
        """Pre-build the MIME bytes with placeholders (see ``raw``)."""
        template = EmailMultiAlternatives(
            subject=self.subject, body=self.text, from_email=self.from_email, to=[TO_ADDRESS], reply_to=self.reply_to,
            headers={"List-Unsubscribe": f"<{self.unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                     "Message-ID": MESSAGE_ID, "Date": DATE})
        template.attach_alternative(self.html, "text/html")
        raw = template.message().as_bytes(linesep="\r\n")
        encoded = re.search(rb"Content-Transfer-Encoding: (quoted-printable|base64)", raw)
        # The greeting of the HTML part is told apart by the tag that follows it.
        html_greeting = (GREETING + "</p>").encode()
        single = (html_greeting, TO_ADDRESS.encode(), b"Message-ID: " + MESSAGE_ID.encode(), b"Date: " + DATE.encode())
        if encoded or any(raw.count(value) != 1 for value in single):
            self.raw = None
            return
        # A part made of ASCII only is labelled 7bit; a recipient's name may not be ASCII.
        self.raw = raw.replace(b"Content-Transfer-Encoding: 7bit", b"Content-Transfer-Encoding: 8bit")


def invitation_email_prepare(*, survey: Survey, reminder: bool = False,
                             survey_settings: SurveySettings | None = None) -> InvitationEmail:
    """Render ``survey``'s invitation (or reminder) email for the current workspace, with
    placeholders for the recipient's values."""
    workspace = connection.tenant
    survey_settings = survey_settings or SurveySettings.load()
    base = workspace.url
    answer_url = base + reverse("surveys:answer", args=[TOKEN])
    unsubscribe_url = base + reverse("surveys:unsubscribe", args=[TOKEN])
    probe_url = base + reverse("surveys:answer_probe", args=[TOKEN])
    questions = list(survey.questions.all())
    question = score_question(survey, questions)
    scores = None
    if question is not None:
        low, high = SCORE_RANGES[question.kind]
        labels = list(question.choices[:2]) if len(question.choices) >= 2 else list(DEFAULT_LABELS[question.kind])
        scores = {"question": question.text, "low_label": labels[0], "high_label": labels[1],
                  "buttons": [(n, f"{answer_url}?score={n}") for n in range(low, high + 1)],
                  "width": 100 // (high - low + 1), "more": len(questions) > 1}
    names = {"workspace": workspace.name}
    # One line: a line break in a header would be refused (or start another header).
    subject = " ".join(survey.email_subject.split()) or DEFAULT_SUBJECTS[survey.kind].format(**names)
    if reminder:
        subject = f"Reminder: {subject}"
    logo_url = ""
    if survey_settings.logo:
        logo_url = base + reverse("surveys:logo", args=[os.path.basename(survey_settings.logo.name)])
    sender = " ".join(survey_settings.sender_name.split()) or workspace.name
    context = {
        "workspace": workspace, "survey": survey, "reminder": reminder, "subject": subject,
        "intro": survey.email_intro.strip() or DEFAULT_INTROS[survey.kind].format(**names),
        "greeting": GREETING, "expires": EXPIRES, "answer_url": answer_url, "unsubscribe_url": unsubscribe_url,
        "probe_url": probe_url,
        "scores": scores, "brand_color": survey_settings.brand_color, "brand_text": _text_color_on(survey_settings.brand_color),
        "logo_url": logo_url, "sender": sender,
    }
    email = InvitationEmail(
        subject=subject,
        from_email=formataddr((sender, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        reply_to=[survey_settings.reply_to] if survey_settings.reply_to else [],
        text=render_to_string("surveys/emails/invitation.txt", context),
        html=render_to_string("surveys/emails/invitation.html", context),
        message_id_prefix=f"survey-{'reminder' if reminder else 'invitation'}.{workspace.schema_name}",
        unsubscribe_url=unsubscribe_url,
        time_zone=zoneinfo.ZoneInfo(workspace.time_zone),
    )
    email.build_raw()
    return email


# ------------------------------------------------------------------------------ outbox

class OutboxBackend(BaseEmailBackend):
    """Delivers through ``settings.EMAIL_DELIVERY_BACKEND`` (none: keep only) and keeps a
    copy of the survey and digest mail a workspace sends as an ``OutboxEmail`` row, so
    local and demo runs have a mailbox with working links (the Outbox page, team leads
    only).

    Account emails (password resets, team invitations, sign-in links: see tenants.mail)
    and any message nobody categorised are never kept: they go to their recipient only,
    through the delivery backend, or — when there is none (local runs without
    ``EMAIL_URL``) — through ``settings.ACCOUNT_EMAIL_FALLBACK_BACKEND`` (the console of
    the process sending them, by default), never into the shared Outbox."""

    def __init__(self, fail_silently=False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        delivery = settings.EMAIL_DELIVERY_BACKEND
        if not delivery and connection.schema_name == get_public_schema_name():
            # No workspace, so no Outbox to keep it in: printed rather than lost.
            delivery = "django.core.mail.backends.console.EmailBackend"
        self.delivery = get_connection(delivery, fail_silently=fail_silently, **kwargs) if delivery else None
        # Opened on the first private message only: most batches are survey mail.
        self._private = None
        self._kwargs = kwargs

    def _private_backend(self):
        if self.delivery is not None:
            return self.delivery
        if self._private is None:
            self._private = get_connection(settings.ACCOUNT_EMAIL_FALLBACK_BACKEND, fail_silently=self.fail_silently,
                                           **self._kwargs)
        return self._private

    def open(self):
        return self.delivery.open() if self.delivery is not None else False

    def close(self):
        for backend in (self.delivery, self._private):
            if backend is not None:
                backend.close()

    def send_messages(self, email_messages):
        messages = [m for m in email_messages if m.recipients()]
        if not messages:
            return 0
        kept = [m for m in messages if mail_kept_in_outbox(m)]
        private = [m for m in messages if not mail_kept_in_outbox(m)]
        sent = 0
        if private:
            sent += self._private_backend().send_messages(private) or 0
        if kept:
            delivered = self.delivery.send_messages(kept) if self.delivery is not None else len(kept)
            # A delivery backend failing silently reports fewer sent without saying
            # which: keep copies only when every message went.
            if delivered == len(kept):
                outbox_keep(messages=kept)
            sent += delivered or 0
        return sent


def _inline_images(message) -> dict:
    """The images a message carries for its HTML (MIME parts with a Content-ID, such as a
    digest's charts), by Content-ID without its angle brackets: {"type", "data" (base64)}."""
    images = {}
    for attachment in getattr(message, "attachments", []):
        if isinstance(attachment, MIMEBase) and attachment.get("Content-ID") and attachment.get_content_maintype() == "image":
            cid = attachment["Content-ID"].strip().strip("<>")
            images[cid] = {"type": attachment.get_content_type(),
                           "data": base64.b64encode(attachment.get_payload(decode=True)).decode("ascii")}
    return images


def outbox_inline_images(html_text: str, images: dict) -> str:
    """``html_text`` with its cid: references to kept images turned into data: URIs, so the
    Outbox shows the email as a mail client would, fetching nothing (its frame's policy
    allows data: images only from itself)."""
    def data_uri(match):
        image = images.get(match["cid"])
        if image is None or not re.fullmatch(r"image/[a-z0-9.+-]+", image.get("type", "")):
            return match[0]
        return f'{match["quote"]}data:{image["type"]};base64,{image["data"]}{match["quote"]}'

    if not images:
        return html_text
    return re.sub(r'(?P<quote>["\'])cid:(?P<cid>[^"\'\s>]+)(?P=quote)', data_uri, html_text)


def outbox_keep(*, messages: list[EmailMultiAlternatives]) -> None:
    """Store copies of sent survey and digest messages in the current workspace's Outbox
    (the table exists in workspace schemas only: mail sent from the public site is not
    kept). Anything else is refused here too, whoever calls this."""
    if not settings.EMAIL_OUTBOX or connection.schema_name == get_public_schema_name():
        return
    rows = []
    for message in messages:
        if not mail_kept_in_outbox(message):
            continue
        html_part = next((content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), "")
        headers = {k: v for k, v in message.extra_headers.items()}
        if message.reply_to:
            headers["Reply-To"] = ", ".join(message.reply_to)
        rows.append(OutboxEmail(to=", ".join([*message.to, *message.cc])[:1000], from_email=message.from_email[:400],
                                subject=message.subject[:500], text=message.body, html=html_part, headers=headers,
                                inline_images=_inline_images(message), category=mail_category(message),
                                invitation_id=getattr(message, "invitation_id", None)))
    OutboxEmail.objects.bulk_create(rows)
