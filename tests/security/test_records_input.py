"""Issue #15: values PostgreSQL cannot store, numbers out of range, calendar-edge dates and
nested objects in dataset rows are each one row's rejection naming the field — through the
records API (JSON) and a CSV import alike — never a 500, never the whole batch.

The bad values are built from the dataset definitions (every field of every dataset, by
its kind), so a new field or dataset is covered without touching this file."""
import json

import pytest
from django_tenants.utils import tenant_context

from ingestion.datasets import DATASETS
from ingestion.models import dataset_model
from tests.helpers import api_key_client

INFINITE = "__1e400__"  # written into the body as the JSON number 1e400 (Python reads inf)

GOOD = {
    "customers": {"external_id": "k", "signed_up_at": "2026-03-01T10:00:00Z"},
    "revenue": {"customer_external_id": "k", "month": "2026-03", "mrr": "10.50"},
    "conversations": {"external_id": "k", "channel": "email", "created_at": "2026-03-01T10:00:00Z"},
    "events": {"external_id": "k", "user_external_id": "u", "name": "visit", "occurred_at": "2026-03-01T10:00:00Z"},
    "survey_responses": {"external_id": "k", "kind": "nps", "score": 9, "responded_at": "2026-03-01T10:00:00Z"},
    "social_mentions": {"external_id": "k", "platform": "x", "posted_at": "2026-03-01T10:00:00Z", "text": "hi"},
}

NESTED = {"a": 1}
BAD_BY_KIND = {
    "text": ["a\x00b", "a\ud800b", NESTED, [1]],
    "choice": ["a\x00b", NESTED],
    "integer": [10**30, -(10**30), 2**31, INFINITE, "NaN", NESTED, [1]],
    "decimal": ["NaN", "Infinity", INFINITE, "1e30", NESTED],
    "boolean": [NESTED, "t\x00"],
    "timestamp": ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1899-12-31T23:00:00Z", NESTED],
    "month": ["0001-01", "9999-12", NESTED],
    "date": ["0001-01-01", "9999-12-31"],
    "json": [{"k": "\x00"}, {"k\x00": 1}, {"k": "\udfff"}, {"k": INFINITE}, {"k": [{"deep": "\x00"}]}],
    "list": [[NESTED], ["a\x00"], ["\ud800"]],
}


def _cases():
    for key, dataset in DATASETS.items():
        for f in dataset.fields:
            for n, bad in enumerate(BAD_BY_KIND[f.kind]):
                yield pytest.param(key, f.name, bad, id=f"{key}-{f.name}-{n}")


def _body(rows) -> str:
    return json.dumps(rows).replace(json.dumps(INFINITE), "1e400")


def _stored(workspace, key):
    with tenant_context(workspace):
        model = dataset_model(DATASETS[key])
        return sorted(tuple(sorted((k, str(v)) for k, v in row.items() if k not in ("id", "imported_at")))
                      for row in model.objects.values())


@pytest.mark.parametrize(("key", "field", "bad"), list(_cases()))
def test_a_bad_value_in_any_field_rejects_its_row_alone_naming_the_field(workspace, key, field, bad):
    client = api_key_client(workspace)
    url = f"/api/v1/datasets/{key}/records"
    good = dict(GOOD[key])
    kept = {**good, **({"external_id": "kept"} if "external_id" in good else {"customer_external_id": "kept"})}
    assert client.post(url, _body([kept]), content_type="application/json").json()["created"] == 1
    before = _stored(workspace, key)

    fresh = {**good, **({"external_id": "new"} if "external_id" in good else {"customer_external_id": "new"})}
    response = client.post(url, _body([fresh, {**good, field: bad}]), content_type="application/json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 1 and len(body["rejected"]) >= 1
    assert {r["index"] for r in body["rejected"]} == {1}
    assert field in {r["field"] for r in body["rejected"]}, body["rejected"]
    after = _stored(workspace, key)
    assert len(after) == len(before) + 1 and set(before) <= set(after)


@pytest.mark.parametrize(("value", "message"), [
    ({"a": 1}, "agent: expected text, got a JSON object"),
    ("ann\x00", "agent contains a NUL character (U+0000), which cannot be stored"),
    ("ann\ud83d", "agent contains a lone surrogate (U+D83D), which is not valid Unicode"),
])
def test_the_messages_name_the_field_and_the_problem(workspace, value, message):
    client = api_key_client(workspace)
    row = {**GOOD["conversations"], "agent": value}
    body = client.post("/api/v1/datasets/conversations/records", _body([row]), content_type="application/json").json()
    assert body["rejected"] == [{"index": 0, "field": "agent", "error": message}]
    with tenant_context(workspace):
        assert not dataset_model(DATASETS["conversations"]).objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("contacts", 10**30, "contacts: 1000000000000000000000000000000 is out of range (at most 2,147,483,647)"),
    ("contacts", INFINITE, "contacts: 'inf' is not a whole number"),
    ("created_at", "0001-01-01T00:00:00+01:00",
     "created_at: 0001-01-01 is out of range. Dates must be between 1900-01-01 and 2999-12-31."),
    ("tags", [{"a": 1}], "tags: items must be text, got a JSON object"),
])
def test_numbers_and_dates_out_of_range_are_explained(workspace, field, value, message):
    client = api_key_client(workspace)
    row = {**GOOD["conversations"], field: value}
    body = client.post("/api/v1/datasets/conversations/records", _body([row]), content_type="application/json").json()
    assert body["rejected"] == [{"index": 0, "field": field, "error": message}]


def test_extra_keys_and_values_that_cannot_be_stored_are_rejected_by_name(workspace):
    client = api_key_client(workspace)
    rows = [{**GOOD["events"], "sla\x00": "gold"}, {**GOOD["events"], "external_id": "k2", "note": "x\ud800"},
            {**GOOD["events"], "external_id": "k3", "nested": {"ok": [1, {"deep": True}]}}]
    body = client.post("/api/v1/datasets/events/records", _body(rows), content_type="application/json").json()
    assert body["rejected"] == [
        {"index": 0, "field": "sla\\x00", "error": "the name sla\\x00 contains a NUL character (U+0000), which cannot be stored"},
        {"index": 1, "field": "note", "error": "note contains a lone surrogate (U+D800), which is not valid Unicode"},
    ]
    assert body["created"] == 1  # nested extra values are fine: extra is a JSON object
    with tenant_context(workspace):
        assert dataset_model(DATASETS["events"]).objects.get().extra == {"nested": {"ok": [1, {"deep": True}]}}


CSV_HEADER = "external_id,channel,created_at,contacts,agent,note\r\n"


def _import(workspace, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ingestion.services.import_run import import_job_run
    from ingestion.services.imports import import_create

    with tenant_context(workspace):
        upload = SimpleUploadedFile("conversations.csv", text.encode("utf-8"), "text/csv")
        job = import_create(dataset=DATASETS["conversations"], upload=upload, mode="valid_rows", source="api", start=True)
        return import_job_run(job_id=str(job.pk))


def test_a_csv_import_rejects_each_bad_cell_on_its_own_line(workspace):
    from ingestion.models import Conversation, ImportRejection

    job = _import(workspace, CSV_HEADER + "\r\n".join([
        "ok-1,email,2026-03-01T10:00:00Z,1,ann,x",
        "nul-agent,email,2026-03-01T10:00:00Z,1,an\x00n,x",  # line 3
        "nul-extra,email,2026-03-01T10:00:00Z,1,ann,x\x00y",  # line 4
        "huge,email,2026-03-01T10:00:00Z,1000000000000000000000000000000,ann,x",  # line 5
        "year-one,email,0001-01-01T00:00:00+01:00,1,ann,x",  # line 6
        "nan,email,2026-03-01T10:00:00Z,NaN,ann,x",  # line 7
        "ok-2,chat,2026-03-02T10:00:00Z,2,bob,y",
    ]) + "\r\n")
    assert (job.status, job.created_rows, job.rejected_rows) == ("done", 2, 5)
    with tenant_context(workspace):
        assert sorted(Conversation.objects.values_list("external_id", flat=True)) == ["ok-1", "ok-2"]
        rejected = {r.line: (r.values, r.errors) for r in ImportRejection.objects.filter(job=job)}
    assert rejected == {
        3: (["nul-agent", "email", "2026-03-01T10:00:00Z", "1", "an\ufffdn", "x"],
            [{"column": "agent", "error": "agent contains a NUL character (U+0000), which cannot be stored"}]),
        4: (["nul-extra", "email", "2026-03-01T10:00:00Z", "1", "ann", "x\ufffdy"],
            [{"column": "note", "error": "note contains a NUL character (U+0000), which cannot be stored"}]),
        5: (["huge", "email", "2026-03-01T10:00:00Z", "1000000000000000000000000000000", "ann", "x"],
            [{"column": "contacts", "error": "contacts: 1000000000000000000000000000000 is out of range (at most 2,147,483,647)"}]),
        6: (["year-one", "email", "0001-01-01T00:00:00+01:00", "1", "ann", "x"],
            [{"column": "created_at", "error": "created_at: 0001-01-01 is out of range. Dates must be between 1900-01-01 and 2999-12-31."}]),
        7: (["nan", "email", "2026-03-01T10:00:00Z", "NaN", "ann", "x"],
            [{"column": "contacts", "error": "contacts: 'NaN' is not a whole number"}]),
    }


def test_a_header_that_cannot_be_stored_refuses_the_file_with_the_column():
    import io

    from ingestion.csvfiles import ImportFileError, sniff

    data = b"external_id,chan\x00nel,created_at\r\nc-1,email,2026-03-01T10:00:00Z\r\n"
    with pytest.raises(ImportFileError) as refused:
        sniff(io.BytesIO(data), size=len(data))
    assert str(refused.value) == ("The name of column 2 in the header row contains a NUL character (U+0000), which cannot "
                                  "be stored; rename it and upload the file again.")
