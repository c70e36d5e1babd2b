"""Survey pages: authoring. The list, the template gallery, the editor (texts and a
question formset that works without JavaScript), the preview, duplicate, close/reopen,
the survey settings page and the public logo. Views parse, call a service or selector and
render; every rule is in ``surveys.services.authoring``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST, require_safe

from surveys.selectors import authoring as selectors
from surveys.catalog import TEMPLATES
from surveys.forms.authoring import NewSurveyForm, SurveySettingsForm, SurveyTextsForm, question_formset
from surveys.models import QuestionKind
from surveys.services.authoring import LOCKED_MESSAGE, QuestionsInvalid, SurveyLocked, survey_close, survey_create_from_template, survey_duplicate, survey_reopen, survey_update
from surveys.services.survey_settings import LOGO_TYPES, survey_settings_update
from tenants.accounts.decorators import agent_required, team_lead_required
from tenants.forms import form_add_errors, form_apply
from tenants.http import next_url

PAGE_SIZE = 50


def _survey_or_404(pk: int, *, counts: bool = False):
    survey = selectors.survey_get(pk, counts=counts)
    if survey is None:
        raise Http404("No such survey in this workspace.")
    return survey


@agent_required
def survey_list_page(request):
    page = Paginator(selectors.survey_list().select_related("created_by"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "surveys/authoring/list.html", {"page": page})


@team_lead_required
def survey_new(request):
    form = NewSurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            survey = survey_create_from_template(template=form.cleaned_data["template"], name=form.cleaned_data["name"],
                                                 created_by=request.user)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, f"“{survey.name}” created from the template. Adjust its questions and texts, "
                                      "then preview it.")
            return redirect("surveys:edit", survey.pk)
    return render(request, "surveys/authoring/new.html", {"form": form, "templates": list(TEMPLATES.values())},
                  status=400 if form.errors else 200)


def _texts_initial(survey) -> dict:
    return {name: getattr(survey, name) for name in ("name", "intro", "thank_you", "email_subject", "email_intro")}


def _with_new_question(post):
    """The posted editor plus one blank question row (the "Add a question" button, which
    saves nothing: it works without JavaScript and keeps what was typed)."""
    data = post.copy()
    total = int(data.get("questions-TOTAL_FORMS") or 0)
    data["questions-TOTAL_FORMS"] = str(total + 1)
    # A blank row left as it is must be ignored on save: give it the field's initial kind.
    data[f"questions-{total}-kind"] = "text"
    return data, total


@team_lead_required
def survey_edit(request, pk):
    survey = _survey_or_404(pk, counts=True)
    questions = list(survey.questions.all())
    locked = selectors.survey_has_responses(survey)
    data = request.POST if request.method == "POST" else None
    new_row = None
    if data is not None and "add" in data and not locked:
        data, new_row = _with_new_question(data)
    texts_form = SurveyTextsForm(data, initial=_texts_initial(survey))
    texts_form.fields["name"].required = False  # the service says "Give the survey a name."
    formset = None if locked else question_formset(data=data, questions=questions)
    if new_row is not None:
        formset.forms[new_row].fields["text"].widget.attrs["autofocus"] = True
    question_errors: list[str] = []
    lock_race = False
    status = 200

    if data is not None and new_row is None:
        if texts_form.is_valid() and (formset is None or formset.is_valid()):
            try:
                before = survey.version
                survey = survey_update(survey=survey, questions=None if formset is None else formset.specs(),
                                       **texts_form.cleaned_data)
            except SurveyLocked:
                # A response arrived since the page was opened: nothing was saved. Show the
                # locked editor with the texts as typed, so they can be saved alone.
                locked, formset, lock_race = True, None, True
            except QuestionsInvalid as exc:
                formset.add_service_errors(exc.by_question)
                question_errors = [m for m in exc.messages if not m.startswith("Question ")]
            except ValidationError as exc:
                form_add_errors(texts_form, exc)
            else:
                if survey.version != before:
                    messages.success(request, f"Survey saved. Its questions changed: this is version {survey.version}.")
                else:
                    messages.success(request, "Survey saved.")
                return redirect("surveys:edit", survey.pk)
        status = 400

    return render(request, "surveys/authoring/edit.html", {
        "survey": survey, "questions": questions, "locked": locked, "locked_message": LOCKED_MESSAGE,
        "texts_form": texts_form, "formset": formset, "question_errors": question_errors, "new_row": new_row,
        "lock_race": lock_race,
        "kind_guide": [(label, _KIND_HELP[value]) for value, label in QuestionKind.choices],
    }, status=status)


_KIND_HELP = {
    "nps": "0 to 10. Options: the labels of 0 and 10.",
    "csat": "1 to 5. Options: the labels of 1 and 5.",
    "rating": "One label per point, worst first (2 to 11).",
    "single": "One answer among the options (2 to 20).",
    "multiple": "Any number of the options (2 to 20).",
    "text": "A free-text answer; no options.",
}


@agent_required
def survey_preview(request, pk):
    """The survey rendered by the public pages' own form template, with the same branding
    object they get (the workspace's survey settings): exactly what customers see."""
    survey = _survey_or_404(pk)
    return render(request, "surveys/authoring/preview.html", {
        "survey": survey, "questions": list(survey.questions.all()), "branding": selectors.survey_settings_get(),
        "answers": {}, "preview": True,
    })


@require_POST
@team_lead_required
def survey_duplicate_view(request, pk):
    survey = _survey_or_404(pk)
    copy = survey_duplicate(survey=survey, created_by=request.user)
    messages.success(request, f"“{copy.name}” created: a copy with no responses, whose questions you can change.")
    return redirect("surveys:edit", copy.pk)


@require_POST
@team_lead_required
def survey_close_view(request, pk):
    survey = _survey_or_404(pk)
    if survey.is_open:
        survey_close(survey=survey)
        messages.success(request, f"“{survey.name}” closed: it takes no new responses.")
    else:
        survey_reopen(survey=survey)
        messages.success(request, f"“{survey.name}” reopened: it takes responses again.")
    return redirect(next_url(request, reverse("surveys:list")))


@team_lead_required
def survey_settings_page(request):
    settings = selectors.survey_settings_get()
    form = SurveySettingsForm(request.POST or None, request.FILES or None, settings=settings,
                              trigger_choices=selectors.survey_csat_trigger_choices())
    if request.method == "POST" and form_apply(
            request, form, lambda data: survey_settings_update(settings=settings, **form.changes()),
            "Survey settings saved."):
        return redirect("surveys:settings")
    return render(request, "surveys/authoring/settings.html", {
        "form": form, "settings": settings, "branding": selectors.survey_branding(settings)}, status=400 if form.errors else 200)


@require_safe
def survey_logo(request, name):
    """The workspace's current survey logo, public (survey pages and emails show it to
    people who are not signed in). Only the current file is served, under its random name,
    so it is cached for a year."""
    settings = selectors.survey_settings_get()
    current = selectors.survey_logo_name(settings)
    if not current or name != current:
        raise Http404("No such logo.")
    extension = current.rsplit(".", 1)[-1]
    try:
        handle = settings.logo.open("rb")
    except FileNotFoundError:
        raise Http404("No such logo.") from None
    response = FileResponse(handle, content_type=LOGO_TYPES.get(extension, "application/octet-stream"))
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


urlpatterns = [
    path("surveys/", survey_list_page, name="list"),
    path("surveys/new/", survey_new, name="new"),
    path("surveys/<int:pk>/edit/", survey_edit, name="edit"),
    path("surveys/<int:pk>/preview/", survey_preview, name="preview"),
    path("surveys/<int:pk>/duplicate/", survey_duplicate_view, name="duplicate"),
    path("surveys/<int:pk>/close/", survey_close_view, name="close"),
    path("settings/surveys/", survey_settings_page, name="settings"),
    path("survey-logo/<str:name>", survey_logo, name="logo"),
]
