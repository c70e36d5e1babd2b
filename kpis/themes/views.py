"""The themes page: per theme, its comments in the period, their share, the net sentiment
of its mentions and what it does to NPS and CSAT; team leads write and edit the themes."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kpis.themes.forms import ThemeForm
from kpis.themes.models import Theme
from kpis.themes.selectors import theme_figures
from kpis.themes.services import theme_delete, theme_save
from kpis.views.common import form_status, page_context
from tenants.accounts.decorators import member_required, team_lead_required

_MATCHING = "Matching it over every comment: the figures below fill in within seconds."


def _page(request, form: ThemeForm, status: int | None = None):
    period, context = page_context(request)
    overall, entries = theme_figures(since=period.start, until=period.end)
    return render(request, "kpis/themes.html", {**context, "overall": overall, "entries": entries, "theme_form": form},
                  status=status or form_status(context["form"]))


@member_required
def themes(request):
    return _page(request, ThemeForm())


@require_POST
@team_lead_required
def theme_add(request):
    form = ThemeForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    theme = theme_save(name=form.cleaned_data["name"], phrases=form.cleaned_data["phrases"])
    messages.success(request, f"Theme “{theme.name}” added. {_MATCHING}")
    return redirect(f"{reverse('themes:page')}?{request.GET.urlencode()}")


@team_lead_required
def theme_edit(request, pk: int):
    theme = get_object_or_404(Theme, pk=pk)
    form = ThemeForm(request.POST or None, theme=theme)
    if request.method == "POST" and form.is_valid():
        theme_save(theme=theme, name=form.cleaned_data["name"], phrases=form.cleaned_data["phrases"])
        messages.success(request, f"Theme “{theme.name}” saved. {_MATCHING}")
        return redirect("themes:page")
    return render(request, "kpis/theme_edit.html", {"theme": theme, "form": form}, status=400 if form.errors else 200)


@require_POST
@team_lead_required
def theme_remove(request, pk: int):
    theme = get_object_or_404(Theme, pk=pk)
    theme_delete(theme=theme)
    messages.success(request, f"Theme “{theme.name}” deleted.")
    return redirect("themes:page")
