"""Reading uploaded CSV files: what a file is (encoding, BOM, delimiter, header), why it
cannot be imported, and its rows streamed from any byte offset.

Rows are read from the binary file line by line and handed to the ``csv`` module, so the
byte offset after each row is known exactly. That offset is the import's checkpoint: an
interrupted import resumes by seeking to it. Nothing here touches the database.
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import BinaryIO, Iterator, NamedTuple

from tenants.inputs import text_problem

SNIFF_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
# csv's default limit is 128 KiB per field; allow long free text (subjects, posts) but keep
# a bound, so a broken quote cannot swallow the rest of a file into one field.
csv.field_size_limit(8 * 1024 * 1024)

SIGNATURES = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive or an Excel (.xlsx) workbook",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"SQLite format 3": "an SQLite database",
}


class ImportFileError(ValueError):
    """A file that cannot be imported; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class CsvFormat:
    encoding: str  # a Python codec name: utf-8 or cp1252
    delimiter: str
    headers: list[str]
    data_offset: int  # byte offset of the first data row (after the BOM and header)
    bom: bool = False

    @property
    def delimiter_label(self) -> str:
        return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[self.delimiter]

    @property
    def encoding_label(self) -> str:
        return {"utf-8": "UTF-8", "cp1252": "Windows-1252"}.get(self.encoding, self.encoding) + (" with BOM" if self.bom else "")


def utf16_to_utf8(source: BinaryIO, target: BinaryIO) -> bool:
    """Copy ``source`` to ``target``, converting UTF-16 (which Excel's "Unicode text" writes;
    recognised by its BOM) to UTF-8. Returns whether it converted. Streams in chunks."""
    head = source.read(2)
    source.seek(0)
    if head not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return False
    decoder = codecs.getincrementaldecoder("utf-16")()
    while chunk := source.read(1024 * 1024):
        target.write(decoder.decode(chunk).encode("utf-8"))
    target.write(decoder.decode(b"", final=True).encode("utf-8"))
    return True


def _binary_kind(head: bytes) -> str | None:
    for signature, kind in SIGNATURES.items():
        if head.startswith(signature):
            return kind
    # Binary formats are full of NUL bytes (UTF-16 without a byte order mark too: every
    # other byte); a CSV file with the odd NUL in a cell is text, and that cell's row is
    # rejected on its own (ingestion.datasets).
    if head.count(b"\x00") * 32 > len(head):
        return "a binary file"
    return None


def _encoding(sample: bytes, complete: bool) -> str:
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # The sample may end inside a multi-byte character; only a failure before its
        # last few bytes means the file is not UTF-8.
        if not complete and exc.start >= len(sample) - 3:
            return "utf-8"
    # Windows-1252 is what spreadsheet software writes when it is not UTF-8; it decodes
    # every byte but five, which are caught row by row.
    return "cp1252"


def _delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        # Sniffer gives up on single-column or irregular samples: take the delimiter that
        # occurs most in the header line.
        header = lines[0] if lines else ""
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def sniff(file: BinaryIO, *, size: int) -> CsvFormat:
    """Recognise a CSV file, or raise ImportFileError saying what is wrong with it."""
    if size == 0:
        raise ImportFileError("The file is empty.")
    file.seek(0)
    sample = file.read(SNIFF_BYTES)
    kind = _binary_kind(sample[:8192])
    if kind:
        raise ImportFileError(f"This is {kind}, not a CSV file. Export or save it as CSV (comma or semicolon separated) and upload that.")
    bom = sample.startswith(codecs.BOM_UTF8)
    if bom:
        sample = sample[len(codecs.BOM_UTF8):]
    encoding = "utf-8" if bom else _encoding(sample, complete=size <= SNIFF_BYTES)
    text = sample.decode(encoding, errors="replace")
    if not text.strip():
        raise ImportFileError("The file is empty: it holds only blank lines.")
    first = text.lstrip()[:1]
    if first in "{[":
        raise ImportFileError("This looks like JSON, not CSV. Send JSON rows to the records API, or upload a CSV file.")
    if first == "<":
        raise ImportFileError("This looks like HTML or XML, not CSV. Export the data as CSV and upload that.")
    delimiter = _delimiter(text)
    file.seek(len(codecs.BOM_UTF8) if bom else 0)
    rows = _records(file, encoding, delimiter, start_line=1, start_offset=file.tell())
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header.values):
        raise ImportFileError("The file has no header row: its first line must name the columns.")
    headers = [cell.strip() for cell in header.values]
    blank = [str(i + 1) for i, h in enumerate(headers) if not h]
    if blank:
        raise ImportFileError(f"Column {', '.join(blank)} of the header row has no name; name every column.")
    for i, h in enumerate(headers):
        if problem := text_problem(h):
            raise ImportFileError(f"The name of column {i + 1} in the header row {problem}; rename it and upload the file again.")
    repeated = sorted({h for h in headers if headers.count(h) > 1})
    if repeated:
        raise ImportFileError(f"The header row names a column more than once: {', '.join(repeated)}.")
    data_offset = header.end_offset
    if next(rows, None) is None:
        raise ImportFileError("The file has a header row but no data rows.")
    return CsvFormat(encoding=encoding, delimiter=delimiter, headers=headers, data_offset=data_offset, bom=bom)


class Record(NamedTuple):
    line: int  # the file line the row starts on (the header is line 1)
    end_offset: int  # byte offset just after the row
    next_line: int  # the file line just after the row
    values: list[str]
    problem: str = ""  # set when the row cannot be read as CSV text


def _records(file: BinaryIO, encoding: str, delimiter: str, *, start_line: int, start_offset: int) -> Iterator[Record]:
    # Hot loop of every import: the state lives in a small list rather than attributes.
    state = [start_offset, start_line, None]  # offset after the lines read, next line, decoding problem
    label = "UTF-8" if encoding == "utf-8" else encoding

    def lines() -> Iterator[str]:
        for raw in file:
            state[0] += len(raw)
            state[1] += 1
            try:
                yield raw.decode(encoding)
            except UnicodeDecodeError as exc:
                state[2] = state[2] or (f"line {state[1] - 1} is not valid {label} text "
                                        f"(byte 0x{raw[exc.start]:02x} at position {exc.start + 1})")
                yield raw.decode(encoding, errors="replace")

    reader = csv.reader(lines(), delimiter=delimiter)
    line = start_line
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader starts afresh on the next line after an error.
            yield Record(line, state[0], state[1], [], f"unreadable CSV: {exc}")
            line, state[2] = state[1], None
            continue
        if state[2]:
            yield Record(line, state[0], state[1], values, state[2])
            state[2] = None
        elif values:  # blank lines are not rows
            yield Record(line, state[0], state[1], values)
        line = state[1]


def records_read(file: BinaryIO, fmt: CsvFormat, *, offset: int, line: int) -> Iterator[Record]:
    """The data rows of ``file`` from byte ``offset`` (which starts file line ``line``)."""
    file.seek(offset)
    return _records(file, fmt.encoding, fmt.delimiter, start_line=line, start_offset=offset)


def csv_safe(value: object) -> str:
    """A cell for a CSV a person may open in a spreadsheet: text starting with = + - @ (or a
    tab or CR) is prefixed with ' so it is not run as a formula; numbers stay as they are."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def csv_line(values: list, *, delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerow([csv_safe(v) for v in values])
    return buffer.getvalue()
