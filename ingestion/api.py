from django.db import connection
from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.csvfiles import ImportFileError
from ingestion.datasets import DATASETS
from ingestion.models import ImportJob
from ingestion.selectors import FILTERABLE_KINDS, import_list, records_list, rejected_rows_csv
from ingestion.services import MAX_API_ROWS, dataset_model, import_create, import_report_read, records_ingest
from tenants.accounts.models import Role, User


def _dataset(key: str):
    if key not in DATASETS:
        raise NotFound(f"Unknown dataset '{key}'; use one of: {', '.join(DATASETS)}.")
    return DATASETS[key]


def _record_serializer(dataset):
    class Meta:
        model = dataset_model(dataset)
        fields = [f.name for f in dataset.fields] + ["extra", "imported_at"]

    return type(f"{model_name(dataset)}RecordSerializer", (serializers.ModelSerializer,), {"Meta": Meta})


def model_name(dataset) -> str:
    return dataset_model(dataset).__name__


RECORD_SERIALIZERS = {key: _record_serializer(dataset) for key, dataset in DATASETS.items()}


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.ListField(child=serializers.DictField())


class DatasetRecordsView(APIView):
    """Rows of one dataset: send up to 10,000 as a JSON list (upserted by key), or list them."""

    minimum_role = Role.TEAM_LEAD

    @extend_schema(
        summary="List stored rows (team lead)",
        parameters=[
            OpenApiParameter("since", str, description="Rows whose time field is at or after this timestamp"),
            OpenApiParameter("until", str, description="Rows whose time field is before this timestamp"),
            OpenApiParameter("external_id", str), OpenApiParameter("channel", str),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, dataset):
        dataset = _dataset(dataset)
        filters = {k: v for k, v in request.query_params.items()
                   if k in ("since", "until") or (k in dataset.by_name and dataset.by_name[k].kind in FILTERABLE_KINDS)}
        queryset = records_list(dataset_key=dataset.key, filters=filters, time_zone=connection.tenant.time_zone)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(RECORD_SERIALIZERS[dataset.key](page, many=True).data)

    @extend_schema(summary="Upsert up to 10,000 rows (team lead)",
                   request={"application/json": {"type": "array", "maxItems": MAX_API_ROWS,
                                                 "items": {"type": "object", "additionalProperties": True}}},
                   responses=IngestResultSerializer)
    def post(self, request, dataset):
        dataset = _dataset(dataset)
        items = request.data
        if not isinstance(items, list):
            raise ValidationError("Send a JSON list of row objects.")
        if len(items) > MAX_API_ROWS:
            raise ValidationError(f"Send at most {MAX_API_ROWS:,} rows per request (got {len(items):,}); split the batch.")
        result = records_ingest(dataset=dataset, items=items, workspace=connection.tenant)
        return Response({"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
                         "rejected": result.rejected}, status=200)



class ImportSerializer(serializers.Serializer):
    """An import as integrators poll it (api.md): status and counts, which always add up
    to the file's row count once done (imported + rejected + skipped)."""

    id = serializers.UUIDField()
    url = serializers.SerializerMethodField()
    dataset = serializers.CharField()
    mode = serializers.CharField()
    status = serializers.CharField()
    file_name = serializers.CharField()
    total_rows = serializers.IntegerField(allow_null=True, help_text="Estimated while running, exact when done")
    processed_rows = serializers.IntegerField()
    imported_rows = serializers.IntegerField()
    created = serializers.IntegerField(source="created_rows")
    updated = serializers.IntegerField(source="updated_rows")
    unchanged = serializers.IntegerField(source="unchanged_rows")
    rejected_rows = serializers.IntegerField()
    skipped_rows = serializers.IntegerField(help_text="Valid rows not imported because the import was all or nothing")
    progress = serializers.FloatField()
    rejected_rows_url = serializers.SerializerMethodField()
    error = serializers.CharField()
    touched_from = serializers.DateField(allow_null=True)
    touched_until = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_url(self, job) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:import", args=[job.pk]))

    def get_rejected_rows_url(self, job) -> str | None:
        if job.status != ImportJob.Status.DONE:
            return None
        return self.context["request"].build_absolute_uri(reverse("api:import-rejected", args=[job.pk]))


class ImportCreateSerializer(serializers.Serializer):
    dataset = serializers.ChoiceField(choices=list(DATASETS))
    file = serializers.FileField(allow_empty_file=True)
    mode = serializers.ChoiceField(choices=ImportJob.Mode.values, default=ImportJob.Mode.VALID_ROWS)


class ImportListView(APIView):
    """CSV files imported asynchronously: send one, or list past imports."""

    minimum_role = Role.TEAM_LEAD

    @extend_schema(summary="List imports (team lead)", responses=ImportSerializer(many=True))
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(import_list(), request, view=self)
        return paginator.get_paginated_response(ImportSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(summary="Import a CSV file (team lead)", request={"multipart/form-data": ImportCreateSerializer},
                   responses={202: ImportSerializer})
    def post(self, request):
        serializer = ImportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            # An API key is not a user: its imports have no author (their source says api).
            user = request.user if isinstance(request.user, User) else None
            job = import_create(dataset=DATASETS[data["dataset"]], upload=data["file"], user=user,
                                mode=data["mode"], source="api", start=True)
        except ImportFileError as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        return Response(ImportSerializer(job, context={"request": request}).data, status=202)


class ImportDetailView(APIView):
    minimum_role = Role.TEAM_LEAD

    @extend_schema(summary="Status and counts of an import (team lead)", responses=ImportSerializer)
    def get(self, request, pk):
        job = _import(pk)
        if job.is_finished:
            import_report_read(job=job)
        return Response(ImportSerializer(job, context={"request": request}).data)


class ImportRejectedRowsView(APIView):
    minimum_role = Role.TEAM_LEAD

    @extend_schema(summary="The rejected rows of an import as CSV, with an error column (team lead)",
                   responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, pk):
        return rejected_rows_response(_import(pk))


def _import(pk) -> ImportJob:
    job = import_list().filter(pk=pk).first()
    if job is None:
        raise NotFound("No import with this id in this workspace.")
    return job


def rejected_rows_response(job: ImportJob) -> StreamingHttpResponse:
    response = StreamingHttpResponse(rejected_rows_csv(job=job), content_type="text/csv; charset=utf-8")
    stem = job.file_name.rsplit(".", 1)[0] or "import"
    response["Content-Disposition"] = f'attachment; filename="{stem}-rejected.csv"'
    return response
