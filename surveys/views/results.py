"""Survey pages: results — delivery and response rate, the score with its margin of error
and its trend (from the KPI engine), per-question distributions, the responses with
filters and CSV export, and closing the loop on each response. Agents and team leads."""
from chartkick.django import LineChart
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from surveys.selectors import results as reports
from surveys.forms.results import FollowUpForm, ResponseFilterForm
from surveys.models import Response, Survey
from surveys.services.followup import UNCHANGED, response_followup_update
from tenants.accounts.decorators import agent_required
from tenants.forms import form_add_errors

RESPONSES_PAGE_SIZE = 50


def _survey(pk) -> Survey:
    return get_object_or_404(Survey.objects.prefetch_related("questions"), pk=pk)


@agent_required
def detail(request, pk):
    survey = _survey(pk)
    kind = reports.survey_score_kind(survey)
    trend = reports.survey_trend(survey=survey, today=timezone.localdate())
    chart = None
    if any(row["value"] is not None for row in trend):
        chart = LineChart({row["period_start"].isoformat(): None if row["value"] is None else round(row["value"], 1)
                           for row in trend}, height="240px", suffix="%" if kind == "csat" else "")
    public_path = reverse("surveys:public", args=[survey.public_id])
    return render(request, "surveys/results/detail.html", {
        "survey": survey, "kind": kind, "delivery": reports.delivery_summary(survey=survey),
        "summary": reports.score_summary(survey=survey), "trend": trend, "trend_chart": chart,
        "questions": reports.question_summaries(survey=survey),
        "comments": [(response, reports.band_of(kind, response.score))
                     for response in survey.responses.exclude(comment="").order_by("-responded_at")[:8]],
        "public_url": request.tenant.url + public_path,
    })


def _filtered(request, survey):
    form = ResponseFilterForm(request.GET or None, kind=reports.survey_score_kind(survey),
                              options=reports.response_filter_options(survey=survey))
    if form.is_bound and not form.is_valid():
        return form, None
    filters = form.filters() if form.is_bound else reports.ResponseFilters()
    return form, reports.responses_filtered(survey=survey, filters=filters, user=request.user)


@agent_required
def responses(request, pk):
    survey = _survey(pk)
    form, queryset = _filtered(request, survey)
    page = summary = None
    if queryset is not None:
        page = Paginator(queryset, RESPONSES_PAGE_SIZE).get_page(request.GET.get("page"))
        summary = reports.score_summary(survey=survey, responses=queryset)
    params = request.GET.copy()
    params.pop("page", None)
    kind = reports.survey_score_kind(survey)
    rows = [(response, reports.band_of(kind, response.score)) for response in page] if page else []
    return render(request, "surveys/results/responses.html", {
        "survey": survey, "form": form, "page": page, "rows": rows, "summary": summary,
        "query": params.urlencode(), "kind": kind,
    }, status=400 if queryset is None else 200)


@agent_required
def responses_csv(request, pk):
    survey = _survey(pk)
    form, queryset = _filtered(request, survey)
    if queryset is None:
        messages.error(request, "Fix the filters before exporting.")
        return redirect(f"{reverse('surveys:responses', args=[pk])}?{request.GET.urlencode()}")
    stream = StreamingHttpResponse(reports.responses_csv(survey=survey, queryset=queryset),
                                   content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    stream["Content-Disposition"] = f'attachment; filename="pulse-survey-{survey.pk}-responses-{stamp}.csv"'
    return stream


@agent_required
def response(request, pk, response_pk):
    survey = _survey(pk)
    item = get_object_or_404(Response.objects.select_related("invitation", "followup_assignee"), pk=response_pk,
                             survey=survey)
    can_assign = request.user.is_team_lead
    can_follow_up = can_assign or item.followup_assignee_id == request.user.pk
    initial = {"status": item.followup, "assignee": item.followup_assignee, "note": item.followup_note}
    form = FollowUpForm(request.POST or None, initial=initial, can_assign=can_assign)
    if request.method == "POST":
        if not can_follow_up:
            raise PermissionDenied("Only a team lead or the person this follow-up is assigned to can change it.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                response_followup_update(response=item, by=request.user, status=data["status"],
                                         assignee=data["assignee"] if can_assign else UNCHANGED, note=data["note"])
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, "Follow-up saved.")
                return redirect("surveys:response", pk=survey.pk, response_pk=item.pk)
    kind = reports.survey_score_kind(survey)
    answers = [(question, answer, reports.answer_value(question, answer))
               for question, answer in reports.response_answers(response=item)]
    return render(request, "surveys/results/response.html", {
        "survey": survey, "item": item, "answers": answers, "band": reports.band_of(kind, item.score),
        "form": form if can_follow_up else None, "kind": kind,
    })


urlpatterns = [
    path("surveys/<int:pk>/", detail, name="detail"),
    path("surveys/<int:pk>/responses/", responses, name="responses"),
    path("surveys/<int:pk>/responses.csv", responses_csv, name="responses_csv"),
    path("surveys/<int:pk>/responses/<uuid:response_pk>/", response, name="response"),
]
