"""Writing the workspace's survey settings: branding (colour, logo), sender, throttling,
link expiry and the CSAT trigger. Every rule lives here so the pages and the API answer
with the same messages."""
import math
import re
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from surveys.models import SurveySettings
from surveys.selectors.authoring import survey_measures_csat


LOGO_MAX_BYTES = 1024 * 1024


# Raster formats only, recognised by their first bytes (never by name or declared type):
# an SVG logo could carry script, and it is served from the workspace's own host.
LOGO_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


HEX_COLOR = re.compile(r"^#[0-9a-f]{6}$")


SETTING_BOUNDS = {
    # name: (lowest, highest, what it is)
    "throttle_days": (0, 365, "The throttling window"),
    "link_expiry_days": (1, 365, "Link expiry"),
    "csat_trigger_delay_minutes": (0, 10080, "The CSAT delay"),
}


SETTING_FIELDS = ("brand_color", "logo", "logo_remove", "sender_name", "reply_to", "throttle_days",
                  "link_expiry_days", "csat_trigger_survey", "csat_trigger_delay_minutes")


@dataclass(frozen=True)
class LogoFile:
    extension: str
    content_type: str


def logo_sniff(head: bytes) -> LogoFile | None:
    """The image format of a file from its first bytes, among the accepted ones."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        extension = "png"
    elif head.startswith(b"\xff\xd8\xff"):
        extension = "jpg"
    elif head[:6] in (b"GIF87a", b"GIF89a"):
        extension = "gif"
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        extension = "webp"
    else:
        return None
    return LogoFile(extension, LOGO_TYPES[extension])


def _logo_check(upload) -> LogoFile:
    if upload.size > LOGO_MAX_BYTES:
        raise ValidationError({"logo": f"The logo is {math.ceil(upload.size / 1024):,} KB; the limit is 1 MB "
                                       f"({LOGO_MAX_BYTES // 1024:,} KB)."})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = logo_sniff(head)
    if kind is None:
        raise ValidationError({"logo": "The logo must be a PNG, JPEG, GIF or WebP image (SVG is not accepted)."})
    return kind


def _settings_clean(changes: dict) -> dict:
    errors = {}
    cleaned = dict(changes)
    if "brand_color" in changes:
        color = (changes["brand_color"] or "").strip().lower()
        if not HEX_COLOR.match(color):
            errors["brand_color"] = "Give the colour as # and six hexadecimal digits, e.g. #4f46e5."
        cleaned["brand_color"] = color
    for name, (low, high, label) in SETTING_BOUNDS.items():
        if name in changes:
            value = changes[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors[name] = f"{label} must be a whole number between {low} and {high}."
    if "sender_name" in changes:
        sender = (changes["sender_name"] or "").strip()
        if len(sender) > 120:
            errors["sender_name"] = f"The sender name is {len(sender)} characters long; the limit is 120."
        elif any(ch in sender for ch in "\r\n<>\""):
            # It goes into the From header: no line breaks, brackets or quotes.
            errors["sender_name"] = "The sender name cannot contain line breaks, <, > or \"."
        cleaned["sender_name"] = sender
    if "reply_to" in changes:
        reply_to = (changes["reply_to"] or "").strip().lower()
        if reply_to:
            try:
                validate_email(reply_to)
            except ValidationError:
                errors["reply_to"] = "Give a valid email address for replies, or leave it empty."
        cleaned["reply_to"] = reply_to
    if changes.get("logo") is not None:
        try:
            cleaned["logo_type"] = _logo_check(changes["logo"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    survey = changes.get("csat_trigger_survey")
    if survey is not None:
        if not survey_measures_csat(survey):
            errors["csat_trigger_survey"] = (f"“{survey.name}” asks no CSAT question: choose a CSAT survey or a "
                                             "custom survey with a CSAT question.")
        elif not survey.is_open:
            errors["csat_trigger_survey"] = f"“{survey.name}” is closed: reopen it or choose another survey."
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def survey_settings_update(*, settings: SurveySettings | None = None, **changes) -> SurveySettings:
    """Change some survey settings: ``brand_color`` (#rrggbb), ``logo`` (an uploaded PNG,
    JPEG, GIF or WebP of at most 1 MB, recognised by its content) or ``logo_remove=True``,
    ``sender_name``, ``reply_to``, ``throttle_days``, ``link_expiry_days``,
    ``csat_trigger_survey`` (a Survey asking a CSAT question, or None for off) and
    ``csat_trigger_delay_minutes``. Refuses bad values with a ValidationError keyed by
    setting."""
    unknown = set(changes) - set(SETTING_FIELDS)
    if unknown:
        raise TypeError(f"Unknown survey settings: {', '.join(sorted(unknown))}")
    cleaned = _settings_clean(changes)
    SurveySettings.load()
    locked = SurveySettings.objects.select_for_update().get(pk=1)
    old_logo = locked.logo.name if locked.logo else ""
    upload, logo_type, remove = cleaned.pop("logo", None), cleaned.pop("logo_type", None), cleaned.pop("logo_remove", False)
    if "csat_trigger_survey" in cleaned:
        survey = cleaned["csat_trigger_survey"]
        if survey is None:
            locked.csat_trigger_since = None
        elif locked.csat_trigger_survey_id is None:
            # Switching the trigger on: only conversations resolved from now on get a survey,
            # not everyone in the next import of old conversations.
            locked.csat_trigger_since = timezone.now()
    for name, value in cleaned.items():
        setattr(locked, name, value)
    if upload is not None:
        # A new random name per upload: the public logo URL can then be cached forever, and
        # workspaces sharing the storage cannot guess or overwrite each other's files.
        locked.logo.save(f"{secrets.token_hex(16)}.{logo_type.extension}", upload, save=False)
    elif remove:
        locked.logo = ""
    locked.save()
    new_logo = locked.logo.name if locked.logo else ""
    if old_logo and old_logo != new_logo:
        storage = locked.logo.storage
        transaction.on_commit(lambda: storage.delete(old_logo))
    if settings is not None:
        settings.refresh_from_db()
    return locked

