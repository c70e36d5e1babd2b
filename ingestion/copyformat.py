"""Rows as lines of PostgreSQL's COPY text format, the fastest way into the staging table.

``copy_line`` formats a row already validated by ``row_parse``. ``row_converter`` is the
import's fast path: for a file's column mapping it returns a function that turns a CSV
row straight into its COPY line, doing the same parsing and checks as ``row_parse`` with
the same field parsers, but without building dicts or collecting messages. It returns None
for any row it does not accept, and only then is ``row_parse`` called, for the messages.
A test checks on thousands of valid and invalid rows that both paths agree exactly.
"""
from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any, Callable

from ingestion.datasets import Dataset
from ingestion.fields import FALSE, INTEGER_MAX, TRUE, Field, FieldError
from tenants.inputs import EARLIEST, LATEST

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escape(text: str) -> str:
    # Most values hold none of the four special characters; skip translate for them.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def _array(items: list[str]) -> str:
    quoted = ('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return _escape("{" + ",".join(quoted) + "}")


def copy_value(f: Field, value: Any) -> str:
    """One clean value (as ``row_parse`` returns it) in COPY text format."""
    if value is None:
        # Empty optional text is stored as '', not NULL, so equality checks stay simple.
        return "" if f.kind in ("text", "choice") else NULL
    if f.kind in ("text", "choice"):
        return _escape(value)
    if f.kind == "timestamp" or f.kind in ("date", "month"):
        return value.isoformat()
    if f.kind == "boolean":
        return "t" if value else "f"
    if f.kind == "list":
        return _array(value)
    if f.kind == "json":
        return _escape(json.dumps(value, ensure_ascii=False))
    return str(value)  # integer, decimal


def copy_line(dataset: Dataset, values: dict, extra: dict, *, defaults: dict | None = None) -> str:
    """A validated row as a COPY line: the dataset's fields in order, then ``extra``.
    ``defaults`` fills empty fields whose default depends on the workspace (currency)."""
    cells = []
    for f in dataset.fields:
        value = values.get(f.name)
        if defaults and f.name in defaults and value in (None, ""):
            value = defaults[f.name]
        cells.append(copy_value(f, value))
    cells.append(_escape(json.dumps(extra, ensure_ascii=False)))
    return "\t".join(cells) + "\n"


class _Reject(Exception):
    """The fast path does not accept the row; ``row_parse`` will say why."""


def _generic_cell(f: Field, tz: tzinfo) -> Callable[[str], tuple[str, Any]]:
    """Stripped, non-empty text → (COPY text, clean value) with the field's own parser, for
    the rarer kinds (dates, months, decimals, lists, JSON)."""
    def convert(text: str) -> tuple[str, Any]:
        value = f.parse(text, tz)
        return copy_value(f, value), value

    return convert


def row_converter(dataset: Dataset, headers: list[str], mapping: list[str], *, tz: tzinfo,
                  defaults: dict | None = None) -> Callable[[list[str]], str | None]:
    """The fast path for rows of a file with ``headers`` mapped by ``mapping`` (field name
    per column, '' for extra): CSV row → COPY line, or None when ``row_parse`` must judge.

    It is generated as straight-line Python for the mapping (one block per field, no loop,
    no dict), because per-row function calls were most of an import's time. Each block does
    what ``Field.parse`` does for its kind; the parity test holds them to it."""
    defaults = defaults or {}
    column_of = {name: index for index, name in enumerate(mapping) if name}
    if any(f.required and f.name not in column_of for f in dataset.fields):
        return lambda row: None  # every row lacks a required field: row_parse reports it
    namespace: dict[str, Any] = {
        "fromiso": datetime.fromisoformat, "TZ": tz, "NULL": NULL, "TRUE": TRUE, "FALSE": FALSE,
        "json_dumps": json.dumps, "escape": _escape, "INTEGER_MAX": INTEGER_MAX,
        "FIRST_YEAR": EARLIEST.year, "LAST_YEAR": LATEST.year,
    }
    code = ["def convert(row):", f"    if len(row) != {len(headers)}:", "        return None", "    try:"]
    cells, texts_extra = [], []
    for i, f in enumerate(dataset.fields):
        cell, value = f"c{i}", f"v{i}"
        override = defaults.get(f.name)
        empty_value = override if override not in (None, "") else f.default
        namespace[f"EMPTY{i}"], namespace[f"EMPTYV{i}"] = copy_value(f, empty_value), empty_value
        cells.append(cell)
        index = column_of.get(f.name)
        if index is None:
            code += [f"        {cell} = EMPTY{i}; {value} = EMPTYV{i}"]
            continue
        code += [f"        t = row[{index}].strip()", "        if not t:"]
        code += ["            return None"] if f.required else [f"            {cell} = EMPTY{i}; {value} = EMPTYV{i}"]
        code += ["        else:"]
        if f.kind == "text":
            if f.max_length is not None:
                code += [f"            if len(t) > {f.max_length}:", "                return None"]
            code += [f"            {cell} = {value} = t"]  # escaped below, once for the whole line
        elif f.kind == "timestamp":
            # A timestamp already in RFC 3339 form (2026-03-01T10:00:00+01:00) goes to
            # PostgreSQL as written, which reads it as the same instant; others are rewritten.
            code += [f"            {value} = fromiso(t)", f"            if not FIRST_YEAR <= {value}.year <= LAST_YEAR:",
                     "                return None", f"            if {value}.tzinfo is None:",
                     f"                {value} = {value}.replace(tzinfo=TZ)", f"                {cell} = {value}.isoformat()",
                     "            elif len(t) == 25 and t[10] == 'T' and t[22] == ':':", f"                {cell} = t",
                     "            else:", f"                {cell} = {value}.isoformat()"]
        elif f.kind == "integer":
            code += [f"            {value} = int(t)", f"            if {value} > INTEGER_MAX or {value} < -INTEGER_MAX:",
                     "                return None"]
            if f.minimum is not None:
                code += [f"            if {value} < {int(f.minimum)}:", "                return None"]
            if f.maximum is not None:
                code += [f"            if {value} > {int(f.maximum)}:", "                return None"]
            code += [f"            {cell} = str({value})"]
        elif f.kind == "boolean":
            code += ["            t = t.lower()", "            if t in TRUE:", f"                {cell} = 't'; {value} = True",
                     "            elif t in FALSE:", f"                {cell} = 'f'; {value} = False",
                     "            else:", "                return None"]
        elif f.kind == "choice":
            namespace[f"CHOICES{i}"] = frozenset(f.choices)
            code += [f"            {value} = t.lower()", f"            if {value} not in CHOICES{i}:", "                return None",
                     f"            {cell} = {value}"]
        elif f.kind == "list":
            # Items with quotes or backslashes need array escaping: the careful path.
            code += ["            if '\"' in t or '\\\\' in t:", "                return None",
                     f"            {value} = [x for x in (x.strip() for x in t.split(';')) if x]",
                     f"            {cell} = '{{' + ','.join(['\"' + x + '\"' for x in {value}]) + '}}'"]
            texts_extra.append(cell)
        else:
            namespace[f"PARSE{i}"] = _generic_cell(f, tz)
            code += [f"            {cell}, {value} = PARSE{i}(t)"]
    code += ["    except (ValueError, FieldError, ArithmeticError):", "        return None"]
    names = {f.name: i for i, f in enumerate(dataset.fields)}
    for n, check in enumerate(dataset.row_checks):
        if getattr(check, "not_before", None):
            later, earlier = (f"v{names[name]}" for name in check.not_before)
            code += [f"    if {later} is not None and {earlier} is not None and {later} < {earlier}:", "        return None"]
            continue
        namespace[f"CHECK{n}"] = check
        kept = ", ".join(f"{name!r}: v{names[name]}" for name in check.fields)
        code += [f"    if CHECK{n}({{{kept}}}):", "        return None"]
    extra = [(index, header) for index, (header, name) in enumerate(zip(headers, mapping)) if not name]
    if extra:
        pairs = ", ".join(f"{header!r}: row[{index}]" for index, header in extra)
        # NUL in an extra cell is dumped as the escape \u0000, which jsonb refuses.
        code += [f"    x = escape(json_dumps({{{pairs}}}, ensure_ascii=False))", "    if '\\\\u0000' in x:",
                 "        return None"]
    else:
        code += ["    x = '{}'"]
    texts = [f"c{i}" for i, f in enumerate(dataset.fields) if f.kind == "text" and f.name in column_of] + texts_extra
    if texts:
        # Text is not escaped field by field: a row whose text holds one of COPY's special
        # characters (rare) goes to the careful path instead.
        code += [f"    t = {' + '.join(texts)}",
                 "    if '\\\\' in t or '\\t' in t or '\\n' in t or '\\r' in t or '\\x00' in t:", "        return None"]
    code += [f"    return '\\t'.join(({', '.join(cells)}, x)) + '\\n'"]
    namespace["FieldError"] = FieldError
    exec("\n".join(code), namespace)  # noqa: S102 - source built above from field definitions only
    return namespace["convert"]
