"""The digest email: text and HTML parts (templates/emails/digest.txt, digest.html), one
inline PNG chart per KPI (multipart/related, referenced as cid: from the HTML, so opening
the email fetches nothing), and RFC 8058 one-click unsubscribe headers. Categorised as
digest mail: the Outbox keeps a copy, with its images (surveys.mail.outbox_keep)."""
from __future__ import annotations

from datetime import timedelta
from email.mime.image import MIMEImage
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kpis.digest_charts import digest_chart_png
from kpis.periods import RANGE, Period
from kpis.selectors.digests import Digest
from kpis.templatetags.kpis import kpi_change, kpi_value
from tenants.mail import MailCategory, mail_categorise

NOUNS = {"daily": "day", "weekly": "week", "monthly": "month"}


def _card_texts(card: dict, noun: str) -> dict:
    """The words of a card, the same in both parts."""
    unit = card["unit"]
    value = kpi_value(card["value"], unit)
    if card["value"] is None:
        change = "no data this " + noun
    elif card["previous"] is None:
        change = f"no data the {noun} before"
    else:
        change = f"{kpi_change(card['change'], unit) or '±0'} vs {kpi_value(card['previous'], unit)}"
    if card["small_sample"]:
        significance = f"n = {card['n']:g}, too few to judge"
    elif card["change_significant"] is True:
        significance = "significant change"
    elif card["change_significant"] is False:
        significance = "not significant"
    else:
        significance = ""
    status = ""
    if card["status"]:
        status = f"{'on' if card['status'] == 'on_target' else 'off'} target (target {kpi_value(card['target'], unit)})"
    return {"value_text": value, "change_text": change, "significance_text": significance, "status_text": status,
            "trend_text": "better" if card["better"] is True else ("worse" if card["better"] is False else "")}


def _chart_cid(card: dict, digest: Digest) -> str:
    return f"chart-{card['key']}-{digest.period.start:%Y%m%d}@pulse.digest"


def digest_message(*, digest: Digest, to_email: str, to_name: str = "", unsubscribe_token: str | None = None,
                   preview: bool = False, message_id: str | None = None) -> EmailMultiAlternatives:
    """The email of ``digest`` for one member. ``unsubscribe_token`` (their subscription's)
    adds the unsubscribe link and headers; a preview to a team lead who is not subscribed
    has none."""
    workspace = connection.tenant
    base = workspace.url
    noun = NOUNS[digest.frequency]
    cards = []
    for card in digest.cards:
        has_chart = any(value is not None for _, value in card["trend"])
        cards.append({**card, **_card_texts(card, noun), "cid": _chart_cid(card, digest) if has_chart else "",
                      "url": base + reverse("kpis:kpi", args=[card["key"]])})
    unsubscribe_url = base + reverse("kpis:digest_unsubscribe", args=[unsubscribe_token]) if unsubscribe_token else ""
    span = Period(RANGE, digest.period.start, digest.period.end).label if digest.period.days > 1 else ""
    subject = f"[{workspace.name}] {'Preview: ' if preview else ''}{digest.frequency.capitalize()} digest, {digest.title}"
    context = {
        "workspace": workspace, "digest": digest, "cards": cards, "noun": noun, "span": span, "preview": preview,
        "subject": subject, "dashboard_url": base + reverse("dashboard"), "alerts_url": base + reverse("kpis:alerts"),
        "manage_url": base + reverse("kpis:account_digest"), "unsubscribe_url": unsubscribe_url,
        "followups_more": digest.followups_total - len(digest.followups),
        "alerts_more": digest.alerts_total - len(digest.alerts), "to_name": " ".join(to_name.split()),
        "last_day": digest.period.end - timedelta(days=1), "time_zone": workspace.time_zone,
    }
    headers = {"Message-ID": message_id} if message_id else {}
    if unsubscribe_url:
        # RFC 2369 / RFC 8058: the mail client's own Unsubscribe button POSTs
        # "List-Unsubscribe=One-Click" to this URL (kpis.views.digests.digest_unsubscribe).
        headers.update({"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    sender = formataddr((f"{workspace.name} on Pulse", parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
    to = formataddr((context["to_name"], to_email)) if context["to_name"] else to_email
    message = EmailMultiAlternatives(subject=subject, body=render_to_string("emails/digest.txt", context),
                                     from_email=sender, to=[to], headers=headers)
    message.attach_alternative(render_to_string("emails/digest.html", context), "text/html")
    # multipart/related around the alternatives and the images: the HTML's cid: references
    # resolve to these parts in every mail client, and nothing is fetched from outside.
    message.mixed_subtype = "related"
    for card in cards:
        if card["cid"]:
            image = MIMEImage(digest_chart_png([value for _, value in card["trend"]]), "png")
            image.add_header("Content-ID", f"<{card['cid']}>")
            image.add_header("Content-Disposition", "inline", filename=f"{card['key']}.png")
            message.attach(image)
    message.digest_built_at = timezone.now()
    return mail_categorise(message, MailCategory.DIGEST)
