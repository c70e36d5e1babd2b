"""The import's fast path (row_converter) agrees exactly with row_parse + copy_line."""
import random
import zoneinfo

import pytest

from ingestion.copyformat import copy_line, row_converter
from ingestion.datasets import DATASETS, row_parse

TZ = zoneinfo.ZoneInfo("Europe/Paris")

VARIANTS = {
    "text": ["abc", "", "  padded  ", "tab\there", "new\nline", "back\\slash", 'quote "q"', "é ü 中文", "x" * 300],
    "timestamp": ["2026-03-01T10:00:00+01:00", "2026-03-01T10:00:00Z", "2026-03-01 10:00", "2026-03-01",
                  "2026-03-29T02:30:00", "20260301T100000", "2026-13-01T00:00:00", "yesterday", "", "  2026-03-01T10:00:00Z "],
    "date": ["2026-03-01", "2026-02-30", "01/03/2026", ""],
    "month": ["2026-03", "2026-13", "2026-3", ""],
    "decimal": ["12.50", "0", "-1", "1e3", "NaN", "abc", "", " 7 "],
    "integer": ["1", "0", "5", "6", "-2", "1.0", "+3", "1_000", "x", ""],
    "boolean": ["true", "FALSE", "yes", "n", "1", "0", "maybe", ""],
    "json": ['{"a": 1}', "[1, 2]", "{bad", '{"t": "x\\ty"}', ""],
    "choice": ["nps", "CSAT", "positive", "negative", "neutral", "other", ""],
    "list": ["a;b", " a ; ;b ", 'q"uote;back\\slash', ""],
}


def random_rows(dataset, rng, count):
    for _ in range(count):
        row = []
        for f in dataset.fields:
            row.append(rng.choice(VARIANTS[f.kind]))
        row.append(rng.choice(["kept", "", "tab\tx"]))  # an extra column
        yield row


@pytest.mark.parametrize("key", list(DATASETS))
def test_fast_path_matches_row_parse_on_valid_and_invalid_rows(key):
    dataset = DATASETS[key]
    headers = [f.name for f in dataset.fields] + ["note"]
    mapping = [f.name for f in dataset.fields] + [""]
    defaults = {"currency": "EUR"} if key == "revenue" else None
    convert = row_converter(dataset, headers, mapping, tz=TZ, defaults=defaults)
    rng = random.Random(key)
    accepted = rejected = 0
    for row in random_rows(dataset, rng, 3000):
        parsed = row_parse(dataset, dict(zip(mapping[:-1], row[:-1])), tz=TZ, extra={"note": row[-1]})
        expected = copy_line(dataset, parsed.values, parsed.extra, defaults=defaults) if parsed.ok else None
        fast = convert(row)
        # The fast path may leave a row with COPY's special characters in its text to the
        # careful path; everything else it must judge and format exactly the same.
        special = any(c in cell for cell in row[:-1] for c in "\\\t\n\r")
        assert fast == expected or (fast is None and special), (row, parsed.errors)
        accepted += parsed.ok
        rejected += not parsed.ok
    assert accepted > 50 and rejected > 50  # both paths were exercised


def test_copy_line_escapes_text_arrays_and_json():
    dataset = DATASETS["conversations"]
    parsed = row_parse(dataset, {"external_id": "a\\b", "channel": "chat", "created_at": "2026-03-01T10:00:00Z",
                                 "tags": 'x"y;t\tz', "subject": "line1\nline2"}, tz=TZ, extra={"k": "v\tw"})
    assert copy_line(dataset, parsed.values, parsed.extra) == (
        "a\\\\b\tchat\t2026-03-01T10:00:00+00:00\t\t\t\t\\N\t\\N\t1\tf\tf\t\\N\t"
        '{"x\\\\"y","t\\tz"}\tline1\\nline2\t{"k": "v\\\\tw"}\n')


def test_special_characters_survive_the_round_trip_through_copy(workspace):
    from django_tenants.utils import tenant_context

    from ingestion.models import Conversation
    from ingestion.services.records import records_upsert

    dataset = DATASETS["conversations"]
    parsed = row_parse(dataset, {"external_id": "a\\b", "channel": "chat", "created_at": "2026-03-01T10:00:00",
                                 "tags": 'x"y;t\tz;{braces},', "subject": "line1\nline2\r\n\\N"}, tz=TZ,
                       extra={"k": "v\tw", "n": "\\N"})
    with tenant_context(workspace):
        records_upsert(dataset=dataset, rows=[(parsed.values, parsed.extra)], currency="EUR")
        stored = Conversation.objects.get()
    assert stored.external_id == "a\\b"
    assert stored.tags == ['x"y', "t\tz", "{braces},"]
    assert stored.subject == "line1\nline2\r\n\\N"
    assert stored.extra == {"k": "v\tw", "n": "\\N"}
    assert stored.created_at.isoformat() == "2026-03-01T09:00:00+00:00"  # 10:00 in Paris
