"""Themes of comments (issue #13): a theme is a name and the phrases that mark it; every
survey comment (imported responses and answers to Pulse surveys) and every social mention
that contains one of its phrases — whole words, case and accents ignored — carries it.

Comments live in three tables of two apps (ingestion_surveyresponse, surveys_response,
ingestion_socialmention); a match names its comment by source and id as text rather than by
foreign keys, because the KPI side reads surveys only through SQL (``kpis`` imports nothing
of ``surveys``). Matches of comments that are gone are removed by the next matching run."""
from django.contrib.postgres.fields import ArrayField
from django.db import models


class CommentSource(models.TextChoices):
    RESPONSE = "response", "Imported survey response"
    ANSWER = "answer", "Answer to a Pulse survey"
    MENTION = "mention", "Social mention"


class Theme(models.Model):
    class Origin(models.TextChoices):
        RULE = "rule", "Written by a team lead"
        SUGGESTED = "suggested", "Suggested, then accepted"

    name = models.CharField(max_length=80, unique=True)
    phrases = ArrayField(models.CharField(max_length=100))
    # The phrases as PostgreSQL regular expressions over lower(unaccent(text)): whole words
    # (\m … \M), accents off, lower case, metacharacters escaped. Written by the service in
    # SQL, with the very unaccent the match uses.
    patterns = ArrayField(models.TextField(), default=list)
    origin = models.CharField(max_length=9, choices=Origin.choices, default=Origin.RULE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CommentTheme(models.Model):
    """A comment that carries a theme, with the comment's time (for periods)."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="matches")
    source = models.CharField(max_length=8, choices=CommentSource.choices)
    record = models.CharField(max_length=64)  # the comment's id in its table, as text
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["theme", "source", "record"], name="comment_theme_once")]
        indexes = [models.Index(fields=["source", "record"], name="comment_theme_record"),
                   models.Index(fields=["theme", "at"], name="comment_theme_time")]


class ThemeWatermark(models.Model):
    """Per source, the newest change matched: the incremental run reads comments changed
    after it (an edited comment is matched again)."""

    source = models.CharField(max_length=8, choices=CommentSource.choices, unique=True)
    changed_at = models.DateTimeField()
