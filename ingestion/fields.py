"""One field of a dataset and how a raw value (CSV text or a JSON value) becomes its
clean value: the parsers per kind and the limits every value must meet (text PostgreSQL
can store, numbers within their columns, dates within the calendar). ``Field.parse`` is
the careful path; ``ingestion.copyformat`` mirrors it for speed, held to it by a test.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from tenants.inputs import DATE_RANGE_MESSAGE, EARLIEST, LATEST, json_problem, text_problem

TRUE = {"true", "t", "yes", "y", "1"}
FALSE = {"false", "f", "no", "n", "0"}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
KNOWN_CHANNELS = ("email", "chat", "phone", "social", "messaging")
# The integer columns are PostgreSQL integer or smallint (with a field maximum): a larger
# value must be one row's error, not the whole batch's "integer out of range".
INTEGER_MAX = 2_147_483_647
# The JSON types a field of each kind takes as is; anything else (an object where text is
# expected, say) is refused rather than stored as its Python repr.
_SCALARS = (str, int, float, bool)
_JSON_TYPE = {dict: "a JSON object", list: "a JSON list"}


class FieldError(ValueError):
    """A value that cannot be accepted; the message is shown to the user as is."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, timestamp, date, month, decimal, integer, boolean, json, choice, list
    required: bool = False
    description: str = ""
    max_length: int | None = None
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    choices: tuple[str, ...] = ()
    default: Any = None

    @property
    def type_label(self) -> str:
        labels = {
            "text": "text", "timestamp": "ISO 8601 timestamp", "date": "date YYYY-MM-DD", "month": "month YYYY-MM",
            "decimal": "decimal number", "integer": "whole number", "boolean": "true / false",
            "json": "JSON object", "choice": " | ".join(self.choices), "list": "list separated by ;",
        }
        return labels[self.kind]

    @property
    def rules(self) -> list[str]:
        """The field's rules in words, for the generated documentation."""
        rules = []
        if self.max_length is not None:
            rules.append(f"at most {self.max_length} characters")
        if self.minimum is not None:
            rules.append(f"≥ {self.minimum}")
        if self.maximum is not None:
            rules.append(f"≤ {self.maximum}")
        if self.default not in (None, "", [], {}):
            rules.append(f"default {str(self.default).lower() if isinstance(self.default, bool) else self.default}")
        if self.kind == "timestamp":
            rules.append("without an offset: read in the workspace time zone")
        return rules

    def parse(self, raw: Any, tz: tzinfo) -> Any:
        """The clean value of ``raw`` (None for empty), or FieldError."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if self.required:
                raise FieldError(f"{self.name} is required")
            return self.default
        if not isinstance(raw, _SCALARS) and self.kind not in ("json", "list"):
            raise FieldError(f"{self.name}: expected {self.type_label}, got {_JSON_TYPE.get(type(raw), type(raw).__name__)}")
        value = raw.strip() if isinstance(raw, str) else raw
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                raise FieldError(f"{self.name} {problem}")
        parsed = _PARSERS[self.kind](self, value, tz)
        if self.max_length is not None and isinstance(parsed, str) and len(parsed) > self.max_length:
            raise FieldError(f"{self.name} is longer than {self.max_length} characters")
        if self.minimum is not None and parsed < self.minimum:
            raise FieldError(f"{self.name} must be at least {self.minimum}, got {parsed}")
        if self.maximum is not None and parsed > self.maximum:
            raise FieldError(f"{self.name} must be at most {self.maximum}, got {parsed}")
        return parsed


def _text(f: Field, value: Any, tz: tzinfo) -> str:
    return str(value)


def _timestamp(f: Field, value: Any, tz: tzinfo) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise FieldError(f"{f.name}: '{value}' is not an ISO 8601 timestamp (e.g. 2026-03-01T14:30:00+01:00)") from None
    _in_calendar(f, parsed.date())
    # A timestamp without an offset is read in the workspace's time zone.
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def _in_calendar(f: Field, day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise FieldError(f"{f.name}: {day.isoformat()} is out of range. {DATE_RANGE_MESSAGE}")
    return day


def _date(f: Field, value: Any, tz: tzinfo) -> date:
    try:
        if not DATE_RE.match(str(value)):
            raise ValueError
        parsed = date.fromisoformat(str(value))
    except ValueError:
        raise FieldError(f"{f.name}: '{value}' is not a date (YYYY-MM-DD)") from None
    return _in_calendar(f, parsed)


def _month(f: Field, value: Any, tz: tzinfo) -> date:
    match = MONTH_RE.match(str(value))
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise FieldError(f"{f.name}: '{value}' is not a month (YYYY-MM)")
    return _in_calendar(f, date(int(match.group(1)), int(match.group(2)), 1))


def _decimal(f: Field, value: Any, tz: tzinfo) -> Decimal:
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        raise FieldError(f"{f.name}: '{value}' is not a number") from None
    if not parsed.is_finite():
        raise FieldError(f"{f.name}: '{value}' is not a number")
    return parsed


def _integer(f: Field, value: Any, tz: tzinfo) -> int:
    if isinstance(value, bool):
        raise FieldError(f"{f.name}: '{value}' is not a whole number")
    try:
        parsed = int(str(value))
    except ValueError:
        raise FieldError(f"{f.name}: '{_shown(value)}' is not a whole number") from None
    if abs(parsed) > INTEGER_MAX:
        raise FieldError(f"{f.name}: {_shown(parsed)} is out of range (at most {INTEGER_MAX:,})")
    return parsed


def _shown(value: Any) -> str:
    """A value for an error message, shortened: 10**30 written out is not helpful."""
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


def _boolean(f: Field, value: Any, tz: tzinfo) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise FieldError(f"{f.name}: '{value}' is not a boolean (use true or false)")


def _json(f: Field, value: Any, tz: tzinfo) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise FieldError(f"{f.name}: not valid JSON") from None
    if not isinstance(value, dict):
        raise FieldError(f"{f.name}: must be a JSON object")
    problem = json_problem(value, f.name)
    if problem:
        raise FieldError(f"{problem[0]} {problem[1]}")
    return value


def _choice(f: Field, value: Any, tz: tzinfo) -> str:
    lowered = str(value).lower()
    if lowered not in f.choices:
        raise FieldError(f"{f.name}: '{value}' is not one of {', '.join(f.choices)}")
    return lowered


def _list(f: Field, value: Any, tz: tzinfo) -> list[str]:
    items = value if isinstance(value, list) else str(value).split(";")
    for item in items:
        if not isinstance(item, _SCALARS):
            raise FieldError(f"{f.name}: items must be text, got {_JSON_TYPE.get(type(item), type(item).__name__)}")
        problem = text_problem(str(item))
        if problem:
            raise FieldError(f"{f.name}: an item {problem}")
    return [str(item).strip() for item in items if str(item).strip()]


_PARSERS: dict[str, Callable[[Field, Any, tzinfo], Any]] = {
    "text": _text, "timestamp": _timestamp, "date": _date, "month": _month, "decimal": _decimal,
    "integer": _integer, "boolean": _boolean, "json": _json, "choice": _choice, "list": _list,
}
