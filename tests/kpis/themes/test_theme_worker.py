"""Themes in a real Celery worker: a theme added on the page is matched over history by the
worker, and an import of survey responses gets its new comments matched after it."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from kpis.themes.models import CommentTheme
from tests.helpers import api_key_client, host_client, wait_until

pytestmark = [pytest.mark.worker]

MARCH = {"period": "month", "date": "2026-03-10"}


def _import(workspace, rows: list[tuple]) -> None:
    lines = ["external_id,kind,score,responded_at,comment"] + [",".join(map(str, row)) for row in rows]
    upload = SimpleUploadedFile("responses.csv", ("\r\n".join(lines) + "\r\n").encode())
    answer = api_key_client(workspace).post("/api/v1/imports", {"dataset": "survey_responses", "file": upload})
    assert answer.status_code == 202, answer.content


def _matches(workspace) -> int:
    with tenant_context(workspace):
        return CommentTheme.objects.count()


def test_the_worker_matches_history_on_save_and_new_comments_after_an_import(committed_workspace, celery_worker):
    workspace = committed_workspace("themeworker")
    _import(workspace, [("r-1", "nps", 2, "2026-03-10T10:00:00Z", "Refund took ages"),
                        ("r-2", "nps", 10, "2026-03-10T11:00:00Z", "Great support"),
                        ("r-3", "nps", 9, "2026-03-10T12:00:00Z", "refunds are easy")])
    lead = host_client(workspace, workspace.lead)
    assert lead.post("/kpis/themes/add/", {"name": "Refunds", "phrases": "refund, refunds"}).status_code == 302
    assert wait_until(lambda: _matches(workspace) == 2, timeout=90)  # r-1 and r-3: history, by the worker
    _import(workspace, [("r-4", "nps", 3, "2026-03-11T09:00:00Z", "Still no REFUND")])
    assert wait_until(lambda: _matches(workspace) == 3, timeout=90)  # r-4, matched after its import
    [entry] = lead.get("/kpis/themes/", MARCH).context["entries"]
    # NPS of the 4: 2 promoters, 2 detractors → 0. Without the theme's 3 (1 promoter, 2
    # detractors), the one left is a promoter: 100. Impact −100.
    assert (entry.comments, entry.nps.responses, entry.nps.points, entry.nps.without) == (3, 3, -100.0, 100.0)
