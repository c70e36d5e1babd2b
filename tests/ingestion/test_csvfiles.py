"""Recognising CSV files and reading their rows from any checkpoint (no database)."""
import codecs
import io

import pytest

from ingestion.csvfiles import ImportFileError, csv_safe, records_read, sniff, utf16_to_utf8


def fmt_of(data: bytes):
    return sniff(io.BytesIO(data), size=len(data))


def test_sniffs_bom_semicolon_and_header():
    data = codecs.BOM_UTF8 + "external_id;name\r\nc-1;Zoë\r\n".encode()
    fmt = fmt_of(data)
    assert (fmt.encoding, fmt.bom, fmt.delimiter, fmt.headers) == ("utf-8", True, ";", ["external_id", "name"])
    assert fmt.data_offset == len(codecs.BOM_UTF8) + len(b"external_id;name\r\n")
    assert fmt.encoding_label == "UTF-8 with BOM" and fmt.delimiter_label == "semicolon"


@pytest.mark.parametrize("line, delimiter", [("a,b,c", ","), ("a;b;c", ";"), ("a\tb\tc", "\t"), ("a|b|c", "|"),
                                             ("single", ",")])
def test_sniffs_the_delimiter(line, delimiter):
    assert fmt_of(f"{line}\n{line}\n".encode()).delimiter == delimiter


def test_windows_1252_is_recognised_and_decoded():
    data = "external_id,name\nc-1,Café crème\n".encode("cp1252")
    fmt = fmt_of(data)
    assert fmt.encoding == "cp1252"
    [record] = list(records_read(io.BytesIO(data), fmt, offset=fmt.data_offset, line=2))
    assert record.values == ["c-1", "Café crème"]


def test_utf16_is_converted_to_utf8():
    source = io.BytesIO("external_id\tname\r\nc-1\tŁukasz\r\n".encode("utf-16"))
    target = io.BytesIO()
    assert utf16_to_utf8(source, target) is True
    assert target.getvalue() == "external_id\tname\r\nc-1\tŁukasz\r\n".encode()
    assert utf16_to_utf8(io.BytesIO(b"a,b\n"), io.BytesIO()) is False


@pytest.mark.parametrize("data, message", [
    (b"", "The file is empty."),
    (b"\n \r\n\n", "The file is empty: it holds only blank lines."),
    (b"%PDF-1.4\n...", "This is a PDF document, not a CSV file."),
    (b"PK\x03\x04\x14\x00", "This is a ZIP archive or an Excel (.xlsx) workbook, not a CSV file."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1", "This is an old Excel (.xls) or Word document, not a CSV file."),
    (b"abc\x00def\x00", "This is a binary file, not a CSV file."),
    (b'[{"external_id": "c-1"}]', "This looks like JSON, not CSV."),
    (b"<html><body>", "This looks like HTML or XML, not CSV."),
    (b"external_id,channel\r\n", "The file has a header row but no data rows."),
    (b"external_id,,channel\r\n1,2,3\r\n", "Column 2 of the header row has no name; name every column."),
    (b"id,name,id\r\n1,2,3\r\n", "The header row names a column more than once: id."),
])
def test_bad_files_are_refused_with_what_is_wrong(data, message):
    with pytest.raises(ImportFileError) as error:
        fmt_of(data)
    assert str(error.value).startswith(message)


def test_records_carry_their_line_and_resume_from_any_offset():
    data = b'id,text\r\n1,plain\r\n2,"two\r\nlines"\r\n\r\n3,"say ""hi"""\r\n'
    fmt = fmt_of(data)
    records = list(records_read(io.BytesIO(data), fmt, offset=fmt.data_offset, line=2))
    assert [(r.line, r.values) for r in records] == [(2, ["1", "plain"]), (3, ["2", "two\r\nlines"]), (6, ["3", 'say "hi"'])]
    assert [r.next_line for r in records] == [3, 5, 7]
    # Resuming at the checkpoint after the second row reads exactly the rest.
    rest = list(records_read(io.BytesIO(data), fmt, offset=records[1].end_offset, line=records[1].next_line))
    assert [(r.line, r.values) for r in rest] == [(6, ["3", 'say "hi"'])]
    assert records[-1].end_offset == len(data)


def test_a_line_that_is_not_utf8_is_a_row_problem_not_a_crash():
    # Past the part sniffed (256 KiB of UTF-8), one line is Latin-1.
    data = b"id,name\n" + "1,é\n".encode() * 70_000 + b"2,caf\xe9\n3,fine\n"
    fmt = fmt_of(data)
    assert fmt.encoding == "utf-8"
    records = list(records_read(io.BytesIO(data), fmt, offset=fmt.data_offset, line=2))[-3:]
    assert [r.problem for r in records] == ["", "line 70002 is not valid UTF-8 text (byte 0xe9 at position 6)", ""]
    assert [r.values for r in records[1:]] == [["2", "caf\ufffd"], ["3", "fine"]]
    # A file whose sampled part is not UTF-8 is read as Windows-1252.
    assert fmt_of(b"id,name\n2,caf\xe9\n").encoding == "cp1252"


@pytest.mark.parametrize("value, safe", [("=SUM(A1)", "'=SUM(A1)"), ("+1 555", "'+1 555"), ("-5", "-5"), ("@me", "'@me"),
                                         ("-1.5e3", "-1.5e3"), ("plain", "plain"), (None, "")])
def test_csv_safe_defuses_formulas(value, safe):
    assert csv_safe(value) == safe
