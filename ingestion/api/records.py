"""The records API: send dataset rows as JSON (upserted by key), or list them."""
from django.db import connection
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.datasets import DATASETS
from ingestion.models import dataset_model
from ingestion.selectors.records import FILTERABLE_KINDS, records_list
from ingestion.services.records import MAX_API_ROWS, records_ingest
from tenants.accounts.models import Role
from tenants.pagination import PageNumberPagination


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


class RejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the row in the list sent, from 0")
    field = serializers.CharField(allow_null=True, help_text="The field at fault; null when the row as a whole is")
    error = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = RejectionSerializer(many=True)


# The path's dataset, by its key (docs/datasets.md).
DATASET_PARAMETER = OpenApiParameter("dataset", str, OpenApiParameter.PATH, enum=list(DATASETS))
class RecordSerializer(serializers.Serializer):
    """A stored row in the schema (component ``Record``); the rows are rendered by RECORD_SERIALIZERS."""


class RecordSchema(OpenApiSerializerExtension):
    """A row's fields depend on the dataset: one object schema per dataset would make a oneOf
    that the rows of several datasets satisfy at once, so a row is described as an object.
    A serializer (not a bare schema) so that drf-spectacular paginates the list like the others."""

    target_class = RecordSerializer

    def map_serializer(self, auto_schema, direction):
        return {"type": "object", "additionalProperties": {},
                "description": "A stored row: the dataset's fields (docs/datasets.md), extra and imported_at"}


class DatasetRecordsView(APIView):
    """Rows of one dataset: send up to 10,000 as a JSON list (upserted by key), or list them."""

    minimum_role = Role.TEAM_LEAD
    # Text PostgreSQL cannot store is one row's error (records_ingest), not the batch's.
    checks_rows_itself = True
    # Paginated by hand (an APIView); the attribute tells the schema the list is paginated.
    pagination_class = PageNumberPagination

    @extend_schema(
        summary="List stored rows (team lead)",
        description="Newest first. Besides the parameters below, any text, choice, boolean or integer field of the "
                    "dataset filters by equality (?plan=pro); a value that does not parse answers 400.",
        parameters=[
            DATASET_PARAMETER,
            OpenApiParameter("since", str, description="Rows whose time field is at or after this time (ISO 8601 "
                                                       "timestamp or date, in the workspace's time zone if naive)"),
            OpenApiParameter("until", str, description="Rows whose time field is before this time"),
            OpenApiParameter("external_id", str), OpenApiParameter("channel", str),
        ],
        responses=RecordSerializer(many=True),
    )
    def get(self, request, dataset):
        dataset = _dataset(dataset)
        filters = {k: v for k, v in request.query_params.items()
                   if k in ("since", "until") or (k in dataset.by_name and dataset.by_name[k].kind in FILTERABLE_KINDS)}
        queryset = records_list(dataset_key=dataset.key, filters=filters, time_zone=connection.tenant.time_zone)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(RECORD_SERIALIZERS[dataset.key](page, many=True).data)

    @extend_schema(summary="Upsert up to 10,000 rows (team lead)", parameters=[DATASET_PARAMETER],
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
