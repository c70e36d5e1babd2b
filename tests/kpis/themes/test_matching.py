"""Comments matched to themes in PostgreSQL: whole words, case and accents ignored, the
three sources, history on save, and the incremental pass."""
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from ingestion.models import SocialMention, SurveyResponse
from kpis.themes.models import CommentTheme, Theme
from kpis.themes.services import theme_match_all, theme_save, themes_match
from tests.ingestion.factories import SurveyResponseFactory
from tests.surveys.factories import ResponseFactory, survey_make

AT = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def comments(workspace):
    with tenant_context(workspace):
        rows = {
            "accented": SurveyResponseFactory(comment="Le remboursement était lent", score=3, responded_at=AT),
            "shouted": SurveyResponseFactory(comment="REFUND took ages!!", score=2, responded_at=AT),
            "longer_word": SurveyResponseFactory(comment="I was refunded quickly", score=10, responded_at=AT),
            "praise": SurveyResponseFactory(comment="Great support, thank you", score=10, responded_at=AT),
            "blank": SurveyResponseFactory(comment="", score=9, responded_at=AT),
            "cpp": SurveyResponseFactory(comment="The C++ SDK crashes", score=5, responded_at=AT),
        }
        survey = survey_make("nps")
        rows["answer"] = ResponseFactory(survey=survey, comment="Refund please", score=4, score_kind="nps",
                                         responded_at=AT)
        rows["mention"] = SocialMention.objects.create(external_id="m-1", platform="x", posted_at=AT,
                                                       text="refund drama, again", sentiment="negative")
        yield rows


def _matched(theme) -> set[tuple[str, str]]:
    return set(CommentTheme.objects.filter(theme=theme).values_list("source", "record"))


def _key(rows, name):
    row = rows[name]
    source = {"answer": "answer", "mention": "mention"}.get(name, "response")
    return source, str(row.pk)


def test_a_theme_matches_whole_words_ignoring_case_and_accents(workspace, comments, eager_tasks):
    with tenant_context(workspace), eager_tasks(execute=True):
        refunds = theme_save(name="  Refunds ", phrases=["refund", "Remboursément", "refund"])
        slow = theme_save(name="Slow", phrases=["took   ages", "lent"])
        cpp = theme_save(name="C++", phrases=["c++"])
    with tenant_context(workspace):
        refunds.refresh_from_db()
        assert (refunds.name, refunds.phrases) == ("Refunds", ["refund", "Remboursément"])
        assert _matched(refunds) == {_key(comments, n) for n in ("accented", "shouted", "answer", "mention")}
        assert _matched(slow) == {_key(comments, n) for n in ("accented", "shouted")}
        assert _matched(cpp) == {_key(comments, "cpp")}  # metacharacters are literal
        assert CommentTheme.objects.get(theme=slow, record=str(comments["shouted"].pk)).at == AT


def test_editing_a_theme_redoes_its_history_and_deleting_drops_its_matches(workspace, comments, eager_tasks):
    with tenant_context(workspace), eager_tasks(execute=True):
        theme = theme_save(name="Refunds", phrases=["refund"])
        theme_save(theme=theme, name="Praise", phrases=["great support", "thank you"])
    with tenant_context(workspace):
        assert _matched(theme) == {_key(comments, "praise")}
        theme.delete()
        assert not CommentTheme.objects.exists()


def test_the_incremental_pass_matches_new_and_changed_comments_only(workspace, comments):
    with tenant_context(workspace):
        theme = Theme.objects.create(name="Refunds", phrases=["refund"])
        with connection.cursor() as cursor:
            from kpis.themes.services import _PATTERNS_SQL

            cursor.execute(_PATTERNS_SQL, [theme.pk])
        # A later answer without the theme: the answers' watermark is its change time.
        ResponseFactory(survey=comments["answer"].survey, comment="All good", responded_at=AT,
                        updated_at=AT + timedelta(hours=3))
        assert themes_match(full=True) == 3  # "REFUND took ages", "Refund please", the mention
        # Only what changed since the watermark (less its hour of margin) is read again: the
        # answer changed at 12:00, three hours before the newest one, so it is not.
        CommentTheme.objects.filter(source="answer").delete()
        assert themes_match() == 2
        assert _matched(theme) == {_key(comments, n) for n in ("shouted", "mention")}
        type(comments["answer"]).objects.filter(pk=comments["answer"].pk).update(updated_at=timezone.now())
        assert themes_match() == 3
        assert _matched(theme) == {_key(comments, n) for n in ("shouted", "answer", "mention")}
        # A comment edited since: its old match goes, its new one comes.
        SurveyResponse.objects.filter(pk=comments["shouted"].pk).update(comment="Took ages", imported_at=timezone.now())
        new = SurveyResponseFactory(comment="refund!", responded_at=AT)
        themes_match()
        assert _matched(theme) == {_key(comments, n) for n in ("answer", "mention")} | {("response", str(new.pk))}
        # Comments gone: a full pass drops their matches.
        SurveyResponse.objects.filter(pk=new.pk).delete()
        themes_match(full=True)
        assert ("response", str(new.pk)) not in _matched(theme)


def test_matching_one_theme_over_history_is_idempotent(workspace, comments, eager_tasks):
    with tenant_context(workspace), eager_tasks(execute=True):
        theme = theme_save(name="Refunds", phrases=["refund"])
    with tenant_context(workspace):
        assert theme_match_all(theme_id=theme.pk) == theme_match_all(theme_id=theme.pk) == 3
        assert CommentTheme.objects.count() == 3
