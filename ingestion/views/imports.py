"""The import pages: upload a CSV, map its columns with a preview, follow the import live,
read its report. Views validate, call a service or selector, and render."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ingestion.csvfiles import ImportFileError
from ingestion.datasets import DATASETS
from ingestion.forms import ImportMappingForm, ImportUploadForm
from ingestion.models import ImportJob
from ingestion.responses import rejected_rows_response
from ingestion.selectors.imports import import_list, import_preview, import_rejections
from ingestion.selectors.mapping import mapping_problems
from ingestion.services.imports import import_create, import_start
from tenants.accounts.decorators import team_lead_required


def _job(pk) -> ImportJob:
    job = import_list().filter(pk=pk).first()
    if job is None:
        raise Http404("No such import in this workspace")
    return job


@team_lead_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    initial = {"dataset": request.GET.get("dataset")} if request.GET.get("dataset") in DATASETS else {}
    form = ImportUploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            # import_create refuses a file over IMPORT_MAX_BYTES, saying how big it is.
            try:
                job = import_create(dataset=DATASETS[form.cleaned_data["dataset"]], upload=form.cleaned_data["file"],
                                    user=request.user)
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("ingestion:import", pk=job.pk)
    recent = import_list()[:5]
    return render(request, "ingestion/import_upload.html", {"form": form, "recent": recent,
                                                            "datasets": DATASETS.values()}, status=400 if form.errors else 200)


@team_lead_required
def import_history(request):
    page = Paginator(import_list(), 25).get_page(request.GET.get("page"))
    return render(request, "ingestion/import_list.html", {"page": page, "datasets": DATASETS.values()})


@team_lead_required
@require_http_methods(["GET", "POST"])
def import_detail(request, pk):
    job = _job(pk)
    if job.status == ImportJob.Status.DRAFT:
        return _mapping_step(request, job)
    if request.method == "POST":
        return redirect("ingestion:import", pk=job.pk)
    context = {"job": job, "dataset": DATASETS[job.dataset]}
    if job.is_finished:
        rejections = Paginator(import_rejections(job=job), 100).get_page(request.GET.get("page"))
        took = (job.finished_at - job.started_at).total_seconds() if job.started_at and job.finished_at else None
        context.update(rejections=rejections, problems=_problems(job, rejections), took=duration_text(took))
    else:
        # Rendered as the script would show them, for pages refreshed without JavaScript.
        context.update(rate=_rate(job), time_left=duration_text(_seconds_left(job)))
    return render(request, "ingestion/import_detail.html", context)


def _problems(job: ImportJob, rejections) -> list[dict]:
    """One row per problem of the rejected rows on this page, naming the column as the file
    names it (and the field it was mapped to) so it can be found in the spreadsheet."""
    header_of = {name: header for header, name in zip(job.headers, job.mapping) if name}
    rows = []
    for rejection in rejections:
        for index, problem in enumerate(rejection.errors):
            field_name = problem.get("column") or ""
            rows.append({"line": rejection.line, "span": len(rejection.errors) if index == 0 else 0,
                         "column": header_of.get(field_name, field_name), "field": field_name,
                         "error": problem.get("error", "")})
    return rows


def duration_text(seconds: float | None) -> str:
    """'under a second', '4.2 s', '42 s', '3 min 5 s', '2 h 10 min' (as import-progress.js
    writes it): how long an import took or has left."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return "under a second"
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    return f"{minutes // 60} h {minutes % 60} min"


def _mapping_step(request, job: ImportJob):
    dataset = DATASETS[job.dataset]
    form = ImportMappingForm(request.POST or None, job=job)
    mapping = form.mapping() if not form.is_bound else (form.mapping() if form.is_valid() else job.mapping)
    problems = mapping_problems(dataset=dataset, headers=job.headers, mapping=mapping)
    if form.is_bound and form.is_valid() and "start" in request.POST and not problems:
        try:
            import_start(job=job, mapping=mapping, mode=form.cleaned_data["mode"])
        except ImportFileError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("ingestion:import", pk=job.pk)
    try:
        preview = import_preview(job=job, mapping=mapping)
    except OSError:
        raise Http404("The uploaded file is gone; upload it again.") from None
    return render(request, "ingestion/import_mapping.html", {
        "job": job, "dataset": dataset, "form": form, "problems": problems, "preview": preview,
        "columns": list(zip(job.headers, mapping, form.column_fields, _first_values(preview, len(job.headers)), strict=True)),
    })


def _first_values(preview: list[dict], width: int) -> list[str]:
    cells = [cell["value"] for cell in preview[0]["cells"]] if preview else []
    return (cells + [""] * width)[:width]


@team_lead_required
def import_progress(request, pk):
    """The live state of an import, polled by its page every second."""
    job = _job(pk)
    return JsonResponse({
        "status": job.status, "status_label": job.get_status_display(), "phase": job.get_phase_display(),
        "progress": job.progress, "processed_rows": job.processed_rows, "total_rows": job.total_rows,
        "rejected_rows": job.rejected_rows, "rate": _rate(job), "seconds_left": _seconds_left(job),
        "finished": job.is_finished, "url": reverse("ingestion:import", args=[job.pk]),
    })


def _rate(job: ImportJob) -> int | None:
    """Rows read per second since the job started. All or nothing reads every row twice:
    once checking (counted in total_rows once it loads) and once importing."""
    if not job.started_at or not job.heartbeat_at or job.heartbeat_at <= job.started_at:
        return None
    rows = job.processed_rows
    if job.mode == ImportJob.Mode.ALL_OR_NOTHING and job.phase == ImportJob.Phase.LOAD:
        rows += job.total_rows or 0
    return round(rows / (job.heartbeat_at - job.started_at).total_seconds())


def _seconds_left(job: ImportJob) -> int | None:
    if job.is_finished or not job.started_at or not job.heartbeat_at or job.progress <= 0:
        return None
    elapsed = (job.heartbeat_at - job.started_at).total_seconds()
    return round(elapsed * (1 - job.progress) / job.progress)


@team_lead_required
def import_rejected_csv(request, pk):
    job = _job(pk)
    if job.status != ImportJob.Status.DONE:
        raise Http404("The import has not finished")
    return rejected_rows_response(job)
