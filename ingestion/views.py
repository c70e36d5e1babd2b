from django.http import Http404
from django.shortcuts import render

from ingestion.datasets import DATASETS
from tenants.accounts.decorators import team_lead_required


@team_lead_required
def dataset_list(request):
    return render(request, "ingestion/datasets.html", {"datasets": DATASETS.values()})


@team_lead_required
def dataset_detail(request, key):
    if key not in DATASETS:
        raise Http404(f"Unknown dataset {key}")
    return render(request, "ingestion/dataset.html", {"dataset": DATASETS[key], "datasets": DATASETS.values()})
