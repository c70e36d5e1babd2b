"""Reading surveys: the list with its counts, one survey with its questions, branding."""
from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from kpis.registry import register_segment_labels
from surveys.models import Invitation, Question, QuestionKind, Response, Survey, SurveyKind, SurveySettings


def _count(model, **filters) -> Coalesce:
    """A correlated COUNT per survey: several counts in one query without the row
    multiplication of joining every related table at once."""
    rows = (model.objects.filter(survey=OuterRef("pk"), **filters).order_by().values("survey")
            .annotate(n=Count("*")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def survey_list() -> QuerySet[Survey]:
    """Every survey, newest first, with ``question_count``, ``invitation_count``,
    ``response_count`` and ``open_followup_count`` (responses whose follow-up is open)."""
    return Survey.objects.annotate(
        question_count=_count(Question),
        invitation_count=_count(Invitation),
        response_count=_count(Response),
        open_followup_count=_count(Response, followup=Response.FollowUp.OPEN),
    ).order_by("-created_at", "-pk")


def survey_get(pk: int, *, counts: bool = False) -> Survey | None:
    """One survey with its questions (in order) prefetched, and the counts of survey_list
    when ``counts``; None when there is none with this pk in the workspace."""
    queryset = survey_list() if counts else Survey.objects.all()
    return queryset.prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position"))).filter(
        pk=pk).first()


def survey_has_responses(survey: Survey) -> bool:
    """A survey with a response has locked questions."""
    count = getattr(survey, "response_count", None)
    if count is not None:
        return count > 0
    return Response.objects.filter(survey=survey).exists()


def survey_csat_trigger_choices() -> QuerySet[Survey]:
    """Surveys the post-conversation trigger may send: CSAT surveys and custom surveys with
    a CSAT question (open ones; a closed one already chosen stays listed so it shows)."""
    has_csat = Exists(Question.objects.filter(survey=OuterRef("pk"), kind=QuestionKind.CSAT))
    return Survey.objects.filter(Q(kind=SurveyKind.CSAT) | Q(has_csat)).order_by("name", "pk")


def survey_settings_get() -> SurveySettings:
    return SurveySettings.load()


@dataclass(frozen=True)
class Branding:
    """What survey pages and emails show of the workspace: its colour and logo."""

    color: str
    logo_url: str  # path of the public logo view ('' when none); emails make it absolute
    name: str  # the workspace's name, beside or instead of the logo


def survey_logo_name(settings: SurveySettings) -> str:
    """The name the public logo view serves the current logo under ('' when none)."""
    return settings.logo.name.rsplit("/", 1)[-1] if settings.logo else ""


def survey_branding(settings: SurveySettings | None = None) -> Branding:
    from django.db import connection

    settings = settings or survey_settings_get()
    name = survey_logo_name(settings)
    return Branding(color=settings.brand_color, logo_url=reverse("surveys:logo", args=[name]) if name else "",
                    name=getattr(connection.tenant, "name", ""))


@register_segment_labels("survey")
def survey_segment_labels(values: list[str]) -> dict[str, str]:
    """The KPI survey segment's values (survey ids, stable when a survey is renamed) by
    survey name; '' holds the responses imported outside Pulse surveys. One query."""
    ids = [int(value) for value in values if value.isdigit()]
    names = dict(Survey.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {value: (names.get(int(value), f"Deleted survey #{value}") if value.isdigit() else "Imported responses")
            for value in values}


def survey_measures_csat(survey: Survey) -> bool:
    return survey.kind == SurveyKind.CSAT or survey.questions.filter(kind=QuestionKind.CSAT).exists()

