"""The imports API: send a CSV file to import asynchronously, poll its status and counts,
download its rejected rows."""
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.csvfiles import ImportFileError
from ingestion.datasets import DATASETS
from ingestion.models import ImportJob
from ingestion.responses import rejected_rows_response
from ingestion.selectors.imports import import_list
from ingestion.services.imports import import_create
from tenants.accounts.authentication import request_member
from tenants.accounts.models import Role
from tenants.pagination import PageNumberPagination


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
    # Paginated by hand (an APIView); the attribute tells the schema the list is paginated.
    pagination_class = PageNumberPagination

    @extend_schema(summary="List imports (team lead)", responses=ImportSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
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
            job = import_create(dataset=DATASETS[data["dataset"]], upload=data["file"], user=request_member(request),
                                mode=data["mode"], source="api", start=True)
        except ImportFileError as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        return Response(ImportSerializer(job, context={"request": request}).data, status=202)


class ImportDetailView(APIView):
    minimum_role = Role.TEAM_LEAD

    @extend_schema(summary="Status and counts of an import (team lead)", responses=ImportSerializer)
    def get(self, request, pk):
        job = _import(pk)
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
