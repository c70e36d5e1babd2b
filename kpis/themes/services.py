"""Matching comments to themes, in PostgreSQL (issue #13). A match is a comment whose text,
lower-cased and without accents, contains one of the theme's phrases as whole words
(``patterns``: ``(^|[^[:alnum:]_])phrase([^[:alnum:]_]|$)``, runs of spaces in a phrase
matching any whitespace). One INSERT … SELECT per source: no comment crosses into Python.

- ``theme_save`` writes a theme and re-matches all of history for it (on commit, by task).
- ``themes_match`` matches comments changed since the source's watermark (less a margin:
  a long import's rows carry its transaction's start time and may commit after a later
  one's), after each import and survey answer, and in full nightly, which also drops the
  matches of comments that are gone.
"""
from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from kpis.themes.models import CommentSource, Theme, ThemeWatermark
from tenants.tasking import enqueue

THEME_MATCH_TASK = "kpis.themes.tasks.theme_match_task"
MATCH_TASK = "kpis.themes.tasks.themes_match_task"
MARGIN = timedelta(hours=1)

# Per source: its comments as (record, at, text, changed).
_COMMENTS = {
    CommentSource.RESPONSE: ("ingestion_surveyresponse", "id::text", "responded_at", "comment", "imported_at"),
    CommentSource.ANSWER: ("surveys_response", "id::text", "responded_at", "comment", "updated_at"),
    CommentSource.MENTION: ("ingestion_socialmention", "id::text", "posted_at", "text", "imported_at"),
}

_PATTERNS_SQL = r"""
    UPDATE themes_theme SET patterns = ARRAY(
        SELECT '(^|[^[:alnum:]_])'
               || regexp_replace(regexp_replace(lower(public.unaccent(trim(p))), '([^[:alnum:][:space:]])', '\\\1', 'g'),
                                 '\s+', '\\s+', 'g')
               || '([^[:alnum:]_]|$)'
        FROM unnest(phrases) p WHERE trim(p) <> '')
    WHERE id = %s"""


def _insert_sql(source: str, *, theme_filter: str, comment_filter: str) -> str:
    table, record, at, text, _ = _COMMENTS[source]
    return f"""
        INSERT INTO themes_commenttheme (theme_id, source, record, at)
        SELECT t.id, '{source}', c.{record}, c.{at}
        FROM {table} c JOIN themes_theme t
             ON EXISTS (SELECT 1 FROM unnest(t.patterns) p WHERE lower(public.unaccent(c.{text})) ~ p)
        WHERE c.{text} <> '' {theme_filter} {comment_filter}
        ON CONFLICT DO NOTHING"""


def _phrases_clean(phrases) -> list[str]:
    seen, kept = set(), []
    for phrase in phrases:
        phrase = " ".join(str(phrase).split())
        if phrase and phrase.lower() not in seen:
            seen.add(phrase.lower())
            kept.append(phrase)
    return kept


@transaction.atomic
def theme_save(*, name: str, phrases, theme: Theme | None = None, origin: str = Theme.Origin.RULE,
               match_later: bool = True) -> Theme:
    """Create or change a theme; its matches over all of history are redone after commit
    (by the worker; ``match_later=False`` leaves that to the caller, e.g. the demo seed,
    which matches everything in one pass)."""
    theme = theme or Theme(origin=origin)
    theme.name, theme.phrases = " ".join(name.split()), _phrases_clean(phrases)
    theme.save()
    with connection.cursor() as cursor:
        cursor.execute(_PATTERNS_SQL, [theme.pk])
    if match_later:
        enqueue(THEME_MATCH_TASK, theme.pk)
    return theme


@transaction.atomic
def theme_delete(*, theme: Theme) -> None:
    theme.delete()  # its matches go with it


@transaction.atomic
def theme_match_all(*, theme_id: int) -> int:
    """Redo one theme's matches over every comment. Returns the matches."""
    matched = 0
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM themes_commenttheme WHERE theme_id = %s", [theme_id])
        for source in _COMMENTS:
            cursor.execute(_insert_sql(source, theme_filter="AND t.id = %(theme)s", comment_filter=""),
                           {"theme": theme_id})
            matched += cursor.rowcount
    return matched


@transaction.atomic
def themes_match(*, full: bool = False) -> int:
    """Match the comments changed since each source's watermark (every comment when
    ``full``) against every theme; a changed comment loses its old matches first. A full
    run also drops the matches of comments that no longer exist. Returns the matches made."""
    now = timezone.now()
    watermarks = {row.source: row.changed_at for row in ThemeWatermark.objects.select_for_update()}
    matched = 0
    with connection.cursor() as cursor:
        for source, (table, record, _, _, changed) in _COMMENTS.items():
            since = None if full else watermarks.get(source)
            cursor.execute(f"SELECT max({changed}) FROM {table}")
            newest = cursor.fetchone()[0]
            if since is not None:
                since -= MARGIN
                cursor.execute(f"""DELETE FROM themes_commenttheme m USING {table} c
                                   WHERE m.source = %s AND m.record = c.{record} AND c.{changed} > %s""", [source, since])
            else:
                cursor.execute("DELETE FROM themes_commenttheme WHERE source = %s", [source])
            comment_filter = f"AND c.{changed} > %(since)s" if since is not None else ""
            cursor.execute(_insert_sql(source, theme_filter="", comment_filter=comment_filter), {"since": since})
            matched += cursor.rowcount
            if newest is not None:
                ThemeWatermark.objects.update_or_create(source=source, defaults={"changed_at": min(newest, now)})
    return matched


def themes_match_later() -> None:
    """Queue an incremental match (after an import of comments or a review decision)."""
    enqueue(MATCH_TASK)
