from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.shortcuts import render

from ingestion.responses import dataset_sample_response
from ingestion.selectors import records as selectors
from ingestion.datasets import DATASETS
from ingestion.forms import PageForm, RecordFilterForm
from tenants.accounts.decorators import team_lead_required
from tenants.forms import form_add_errors


def _dataset(key: str):
    if key not in DATASETS:
        raise Http404(f"Unknown dataset {key}")
    return DATASETS[key]


@team_lead_required
def dataset_list(request):
    counts = selectors.dataset_row_counts()
    return render(request, "ingestion/datasets.html",
                  {"datasets": [(dataset, counts[key]) for key, dataset in DATASETS.items()]})


@team_lead_required
def dataset_detail(request, key):
    return render(request, "ingestion/dataset.html", {"dataset": _dataset(key), "datasets": DATASETS.values()})


@team_lead_required
def dataset_sample(request, key):
    """A sample CSV of the dataset: the first rows the demo generator makes, so it is
    realistic, consistent with the other samples and passes the dataset's validation."""
    return dataset_sample_response(_dataset(key))


@team_lead_required
def record_list(request, key):
    dataset = _dataset(key)
    time_zone = connection.tenant.time_zone
    form = RecordFilterForm(request.GET, dataset=dataset, options=selectors.record_filter_options(dataset_key=key),
                            time_zone=time_zone)
    page_form = PageForm(request.GET)
    page = count = None
    if form.is_valid() and page_form.is_valid():
        try:
            queryset = selectors.records_list(dataset_key=key, filters=form.filters(), time_zone=time_zone,
                                              search=form.cleaned_data["q"], search_in=form.cleaned_data["search_in"])
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            page = selectors.records_page(queryset=queryset, dataset_key=key, **page_form.cleaned_data)
            count = selectors.row_counts({key: queryset}, estimate=not form.is_filtered)[key]
    # Links keep the filters, minus the empty ones a submitted form also sends: page links
    # without the current cursor, links to a row with it (so "back" returns to this page).
    given = [(name, value) for name, value in request.GET.items() if value]
    filtered = form.is_valid() and form.is_filtered
    context = {
        "dataset": dataset, "form": form, "page_form": page_form, "page": page, "count": count,
        "filtered": filtered, "empty_dataset": count is not None and count.value == 0 and not filtered,
        "time_zone": time_zone,
        "query": urlencode([(name, value) for name, value in given if name not in PageForm.base_fields]),
        "here": urlencode(given),
    }
    return render(request, "ingestion/records.html", context, status=400 if form.errors or page_form.errors else 200)


@team_lead_required
def record_detail(request, key, pk):
    dataset = _dataset(key)
    record = selectors.record_get(dataset_key=key, pk=pk)
    if record is None:
        raise Http404(f"No {dataset.label.lower()} row {pk}")
    return render(request, "ingestion/record.html",
                  {"dataset": dataset, "record": record, "time_zone": connection.tenant.time_zone,
                   "query": request.GET.urlencode()})
