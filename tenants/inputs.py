"""What a client may send: the one owner of the input limits every entry point shares.

PostgreSQL cannot store some text that Python and JSON carry happily: the NUL character
(U+0000, in ``text`` and in ``jsonb``) and lone UTF-16 surrogates (U+D800–U+DFFF, which
are not Unicode scalar values, so they cannot be encoded as UTF-8 at all). Sent as is,
both reach the database driver and answer 500. Deeply nested JSON makes Python's decoder
recurse until it raises RecursionError, also a 500. And dates near year 1 or 9999 make a
period's neighbours overflow.

So every way in checks here, before anything is stored or computed:
- query parameters, form fields, uploaded file names and the URL path:
  ``InputGuardMiddleware`` answers 400 naming the field;
- JSON bodies: ``GuardedJSONParser`` (every API endpoint) refuses nesting deeper than
  ``JSON_MAX_DEPTH`` cheaply, before decoding, and text PostgreSQL cannot store, naming
  the place in the body — except on endpoints that judge each row on its own
  (``checks_rows_itself``), where one bad row must not fail the batch;
- dataset rows (CSV cells and API rows): ``ingestion.datasets`` calls ``text_problem``
  and ``json_problem`` per field, so a bad row is rejected on its own;
- dates: ``EARLIEST``/``LATEST`` bound the data and every date a page or the API takes.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime
from io import BytesIO
from typing import Any

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.shortcuts import render
from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

# The calendar Pulse works in. Customer-service data is never older than 1900, and a
# bound well inside datetime's year 1–9999 leaves room for what periods compute around a
# date (the previous period, the same period last year, twelve periods of trend).
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
DATE_RANGE_MESSAGE = f"Dates must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}."

# Real payloads nest three or four levels (a list of rows, a row, a properties object);
# 32 leaves room for any honest JSON property while a hostile body costs one scan.
JSON_MAX_DEPTH = 32

_SURROGATE = re.compile("[\ud800-\udfff]")


def in_calendar(value: date) -> None:
    """Validator for every date or timestamp a form or the API takes (forms and DRF both
    run Django validators)."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise DjangoValidationError(f"{day.isoformat()} is out of range. {DATE_RANGE_MESSAGE}", code="out_of_range")


_CALENDAR_ATTRS = {"min": EARLIEST.isoformat(), "max": LATEST.isoformat()}


class CalendarDateField(forms.DateField):
    """A form's date within the calendar; its date picker offers only those dates."""

    default_validators = [in_calendar]

    def widget_attrs(self, widget):
        attrs = dict(_CALENDAR_ATTRS)
        if getattr(widget, "input_type", "") == "month":
            attrs = {name: value[:7] for name, value in attrs.items()}
        return {**super().widget_attrs(widget), **attrs}


class CalendarDateTimeField(forms.DateTimeField):
    default_validators = [in_calendar]


class ApiCalendarDateField(serializers.DateField):
    """The API's date within the calendar."""

    default_validators = [in_calendar]


def text_problem(text: str) -> str | None:
    """Why PostgreSQL cannot store ``text``, in words, or None when it can."""
    if "\x00" in text:
        return "contains a NUL character (U+0000), which cannot be stored"
    match = _SURROGATE.search(text)
    if match:
        return f"contains a lone surrogate (U+{ord(match.group()):04X}), which is not valid Unicode"
    return None


def storable(text: str) -> str:
    """``text`` with what PostgreSQL cannot store replaced by U+FFFD (�): for keeping a
    copy of something refused (a rejected CSV row as read), so the copy shows where."""
    if text_problem(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text.replace("\x00", "\ufffd"))


def json_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first (place, problem) in a decoded JSON value that PostgreSQL's ``jsonb``
    cannot store: NUL or surrogates in a key or a string, or a number that is not finite
    (JSON has no NaN or Infinity; Python's decoder reads 1e400 as inf). Iterative, so its
    cost does not depend on the depth."""
    stack = [(path, value)]
    while stack:
        place, item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return place, problem
        elif isinstance(item, float):
            if not math.isfinite(item):
                return place, f"is {item}, not a finite number"
        elif isinstance(item, dict):
            for key, child in item.items():
                key = str(key)
                problem = text_problem(key)
                if problem:
                    return f"{place}.{display_name(key)}" if place else display_name(key), f"the key {problem}"
                stack.append((f"{place}.{key}" if place else key, child))
        elif isinstance(item, list):
            stack.extend((f"{place}[{index}]", child) for index, child in enumerate(item))
    return None


def display_name(name: str) -> str:
    """A field name safe to show and to store in an error message: characters that
    cannot be stored are written as escapes."""
    if text_problem(name) is None:
        return name
    return name.encode("unicode_escape", errors="backslashreplace").decode("ascii")


_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Every byte but quotes, backslashes and brackets: deleted first with bytes.translate (far
# faster than a regex), which leaves strings still delimited for _STRINGS to remove.
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'"\\[]{}'))
_INNERMOST = re.compile(rb"\[\]|\{\}")


def json_too_deep(body: bytes, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether ``body`` nests arrays and objects deeper than ``limit``, found without
    decoding it: strings are removed (a bracket inside a string does not nest), then the
    innermost empty pairs are removed once per level. Every step runs in C (translate, the
    regex engine); a body nested ``limit`` levels costs at most ``limit`` passes over a
    shrinking text of brackets only."""
    brackets = _STRINGS.sub(b"", body.translate(None, _NOT_STRUCTURE)).replace(b"\\", b"")
    if re.search(rb"[\[{]{%d}" % (limit + 1), brackets):
        return True  # more than ``limit`` openings in a row: the usual hostile body, in one pass
    for _ in range(limit):
        if not brackets:
            return False
        shorter = _INNERMOST.sub(b"", brackets)
        if shorter == brackets:
            return False  # unbalanced: the decoder reports the syntax error
        brackets = shorter
    return bool(brackets)


class GuardedJSONParser(JSONParser):
    """DRF's JSON parser with the limits above: nesting refused before decoding (no
    RecursionError), and text PostgreSQL cannot store refused with where it is."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        if json_too_deep(body):
            raise ParseError(f"Body too deeply nested: JSON may nest arrays and objects at most {JSON_MAX_DEPTH} levels deep.")
        data = super().parse(BytesIO(body), media_type, parser_context)
        view = (parser_context or {}).get("view")
        if not getattr(view, "checks_rows_itself", False):
            problem = json_problem(data)
            if problem:
                place, message = problem
                # Shaped like a serializer's field error, so the API's errors look alike.
                raise ValidationError({place or "non_field_errors": [f"{message[:1].upper()}{message[1:]}."]})
        return data


def _request_problem(request) -> tuple[str, str] | None:
    """The first (field, problem) among the parts of a request that Django decodes
    itself: the path, query parameters, form fields and uploaded file names."""
    problem = text_problem(request.path_info)
    if problem:
        return "the address", problem
    parts = [request.GET]
    if request.method == "POST" and request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        parts.append(request.POST)
    for part in parts:
        for key, values in part.lists():
            for text in (key, *values):
                problem = text_problem(text)
                if problem:
                    return display_name(key), problem
    if request.method == "POST" and request.content_type == "multipart/form-data":
        for key, files in request.FILES.lists():
            for upload in files:
                problem = text_problem(upload.name or "")
                if problem:
                    return display_name(key), f"has a file name that {problem}"
    return None


class InputGuardMiddleware:
    """Answers 400, naming the field, for a request whose path, query or form holds text
    PostgreSQL cannot store — before any view (public survey pages included) reaches the
    database with it. Query strings and forms are decoded by Django with replacement
    characters, so only NUL can arrive this way; JSON bodies are the parser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = _request_problem(request)
        if problem:
            field, message = problem
            return input_refused(request, field=field, message=message)
        return self.get_response(request)


def input_refused(request, *, field: str, message: str):
    """The 400 answer for a refused field: JSON under /api/, a page elsewhere."""
    sentence = f"{field[:1].upper()}{field[1:]} {message}." if field == "the address" else f"The field “{field}” {message}."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": sentence, "errors": {field: [sentence]}}, status=400)
    return render(request, "400.html", {"message": sentence}, status=400)
