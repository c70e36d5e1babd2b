"""A team lead reads the answers held as a scanner's, with their reasons, and accepts one."""
import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from surveys.models import Response
from tests.helpers import host_client
from tests.surveys.factories import InvitationFactory, survey_make
from tests.e2e.helpers import live_base, sign_in


@pytest.fixture
def acme(committed_workspace, live_server):
    workspace = committed_workspace("acme")
    workspace.base = live_base(live_server, workspace)
    return workspace


def test_review_held_answers_and_accept_one(acme, page, screenshot):
    with tenant_context(acme):
        survey = survey_make("nps", name="Quarterly NPS")
        ann = InvitationFactory(survey=survey, email="ann@example.test")
        bo = InvitationFactory(survey=survey, email="bo@example.test")
    connection.set_schema_to_public()
    scanner = host_client(acme, user_agent="")  # no User-Agent, no time on the page
    for invitation, score in ((ann, 9), (bo, 2)):
        assert scanner.post(f"/s/{invitation.token}", {"q1": str(score), "shown": ""}).status_code == 303
    sign_in(page, acme.base, acme.lead.email)

    page.goto(f"{acme.base}/surveys/flagged/")
    page.get_by_role("heading", name="Held responses").wait_for()
    expect(page.locator("main")).to_contain_text("No browser User-Agent (scanner or HTTP library)", use_inner_text=True)
    expect(page.locator("main")).to_contain_text("bo@example.test", use_inner_text=True)
    screenshot("survey-review-held")
    page.get_by_role("button", name="Accept the response of ann@example.test (Quarterly NPS)").click()
    expect(page.get_by_role("button", name="Accept the response of ann@example.test (Quarterly NPS)")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("bo@example.test", use_inner_text=True)
    with tenant_context(acme):
        assert dict(Response.objects.values_list("email", "review")) == {"ann@example.test": "accepted",
                                                                        "bo@example.test": "pending"}
    connection.set_schema_to_public()
