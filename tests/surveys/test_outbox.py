"""The distribution pages: Send (audience, confirmation, campaign), invitations, Outbox,
unsubscribe, suppression list; roles and workspace isolation."""
import re
import zoneinfo
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from surveys.models import Campaign, Invitation, OutboxEmail, Refusal, Suppression
from surveys.services.invitations import campaign_create
from surveys.services.sending import invitations_send_due
from tests.helpers import host_client
from tests.ingestion.factories import CustomerFactory
from tests.surveys.factories import InvitationFactory, survey_make

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def test_send_a_pasted_list_through_the_confirmation(workspace):
    with tenant_context(workspace):
        survey = survey_make("nps", name="Quarterly NPS")
        InvitationFactory(email="recent@x.test")
    client = host_client(workspace, workspace.lead)
    page = client.get(f"/surveys/{survey.pk}/send/")
    assert page.status_code == 200
    assert "In the workspace&#x27;s time zone (Europe/Paris). Leave empty to send now." in page.content.decode()
    response = client.post(f"/surveys/{survey.pk}/send/", {
        "audience": "paste", "pasted": "Ada <ada@x.test>\nrecent@x.test\nnope\nada@x.test", "reminder_days": "3",
        "name": "Q4", "scheduled_at": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Confirm: 1 will be invited, 3 refused" in html
    assert "<td>ada@x.test</td><td>Ada</td>" in html
    today = timezone.localdate(timezone=PARIS).isoformat()
    for reason in ("listed twice: invited once", "not a valid email address", f"surveyed on {today}, within the 30-day window"):
        assert reason in html
    with tenant_context(workspace):
        assert Campaign.objects.count() == 0 and Invitation.objects.filter(survey=survey).count() == 0  # nothing yet
    draft = re.search(r'name="draft" value="([0-9a-f]+)"', html).group(1)
    sent = client.post(f"/surveys/{survey.pk}/send/", {"draft": draft})
    with tenant_context(workspace):
        campaign = Campaign.objects.get()
        assert (campaign.name, campaign.audience, campaign.reminder_days, campaign.created_by_id) == (
            "Q4", "Pasted list", 3, workspace.lead.pk)
        assert list(campaign.invitations.values_list("email", "name", "status")) == [("ada@x.test", "Ada", "scheduled")]
        assert sorted(campaign.refusals.values_list("email", flat=True)) == ["ada@x.test", "nope", "recent@x.test"]
    assert sent.status_code == 302 and sent["Location"] == f"/surveys/{survey.pk}/campaigns/{campaign.pk}/"
    page = client.get(sent["Location"]).content.decode()
    assert "1 invitation will be emailed now; 3 refused." in page
    assert re.search(r'status=scheduled">Scheduled</a></th><td class="num">1</td>', page)
    assert '<tr><th scope="row">Refused</th><td class="num">3</td></tr>' in page
    # The same confirmation cannot be sent twice.
    again = client.post(f"/surveys/{survey.pk}/send/", {"draft": draft})
    assert again.status_code == 302 and again["Location"] == f"/surveys/{survey.pk}/send/"
    with tenant_context(workspace):
        assert Campaign.objects.count() == 1


def test_send_to_customers_scheduled_in_the_workspace_time_zone(workspace):
    with tenant_context(workspace):
        survey = survey_make("csat")
        CustomerFactory(external_id="a", email="a@x.test", name="A", plan="pro", country="FR")
        CustomerFactory(external_id="b", email="", plan="pro", country="FR")
        CustomerFactory(external_id="c", email="c@x.test", plan="free", country="FR")
    client = host_client(workspace, workspace.lead)
    page = client.get(f"/surveys/{survey.pk}/send/").content.decode()
    assert '<option value="pro">pro</option>' in page and '<option value="FR">FR</option>' in page
    when = (timezone.localtime(timezone.now(), PARIS) + timedelta(days=2)).replace(hour=9, minute=30, second=0, microsecond=0)
    response = client.post(f"/surveys/{survey.pk}/send/", {
        "audience": "customers", "plan": "pro", "country": "", "active_only": "on",
        "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"), "reminder_days": ""})
    html = response.content.decode()
    assert "Confirm: 1 will be invited, 1 refused" in html and "no reminder" in html
    assert "Customers: plan pro, every country, active only" in html
    draft = re.search(r'name="draft" value="([0-9a-f]+)"', html).group(1)
    client.post(f"/surveys/{survey.pk}/send/", {"draft": draft})
    with tenant_context(workspace):
        invitation = Invitation.objects.get()
        assert (invitation.email, invitation.customer_external_id, invitation.scheduled_at, invitation.reminder_at) == (
            "a@x.test", "a", when, None)
        assert list(Refusal.objects.values_list("customer_external_id", "reason")) == [("b", "no email address")]


def test_send_a_csv_file_and_its_errors(workspace):
    with tenant_context(workspace):
        survey = survey_make("nps")
    client = host_client(workspace, workspace.lead)
    upload = SimpleUploadedFile("people.csv", b"EMAIL,Name,Channel\nz@x.test,Zed,chat\n", content_type="text/csv")
    html = client.post(f"/surveys/{survey.pk}/send/", {"audience": "csv", "file": upload, "reminder_days": "3"}).content.decode()
    assert "Confirm: 1 will be invited, 0 refused" in html and "<td>z@x.test</td><td>Zed</td><td></td><td>chat</td>" in html
    bad = SimpleUploadedFile("people.csv", b"mail\nz@x.test\n", content_type="text/csv")
    response = client.post(f"/surveys/{survey.pk}/send/", {"audience": "csv", "file": bad, "reminder_days": "3"})
    assert response.status_code == 400
    assert "The file has no “email” column (its columns: mail)." in response.content.decode()
    past = client.post(f"/surveys/{survey.pk}/send/", {"audience": "paste", "pasted": "a@x.test",
                                                      "scheduled_at": "2020-01-01T10:00", "reminder_days": "3"})
    assert past.status_code == 400 and "This time has passed. Leave it empty to send now." in past.content.decode()


def test_invitations_page_filters_and_shows_reasons(workspace, make_member):
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign, _, _ = campaign_create(survey=survey, name="Wave 1", recipients=[{"email": "a@x.test"}, {"email": "bad"}])
        InvitationFactory(survey=survey, email="f@x.test", status="failed", source="api",
                          failure_reason="refused by the mail server: 550 no such user")
    agent = make_member("agent")
    client = host_client(workspace, agent)
    html = client.get(f"/surveys/{survey.pk}/invitations/").content.decode()
    assert "2 invitations, newest first." in html and "refused by the mail server: 550 no such user" in html
    assert f'<a href="/surveys/{survey.pk}/campaigns/{campaign.pk}/">Wave 1</a>' in html
    # invited, sent, responded, refused
    assert '<td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">1</td>' in html
    failed = client.get(f"/surveys/{survey.pk}/invitations/?status=failed").content.decode()
    assert "1 invitation, newest first." in failed and "a@x.test" not in failed
    by_source = client.get(f"/surveys/{survey.pk}/invitations/?source=campaign&campaign={campaign.pk}").content.decode()
    assert "1 invitation, newest first." in by_source and "<td>a@x.test</td>" in by_source
    refused = client.get(f"/surveys/{survey.pk}/invitations/?status=refused").content.decode()
    assert "1 refused recipient, newest first." in refused and "not a valid email address" in refused
    assert client.get(f"/surveys/{survey.pk}/campaigns/{campaign.pk}/").status_code == 200


def test_roles(workspace, make_member):
    with tenant_context(workspace):
        survey = survey_make("nps")
        campaign = Campaign.objects.create(survey=survey, name="c", scheduled_at=timezone.now())
        email = OutboxEmail.objects.create(category="survey", to="a@x.test", from_email="f@x.test", subject="s", text="t",
                                           html="<p>h</p>")
    agent, viewer = host_client(workspace, make_member("agent")), host_client(workspace, make_member("viewer"))
    agent_pages = [f"/surveys/{survey.pk}/invitations/", f"/surveys/{survey.pk}/campaigns/{campaign.pk}/"]
    # The Outbox is the team lead's (issue #15: agents read account emails there).
    lead_pages = [f"/surveys/{survey.pk}/send/", "/surveys/suppressions/", "/outbox/", f"/outbox/{email.pk}/",
                  f"/outbox/{email.pk}/html"]
    for url in agent_pages:
        assert agent.get(url).status_code == 200, url
        response = viewer.get(url)
        assert response.status_code == 403 and "It needs the <strong>agent</strong> role." in response.content.decode(), url
    for url in lead_pages:
        for client in (agent, viewer):
            response = client.get(url)
            assert response.status_code == 403, url
            assert "It needs the <strong>team lead</strong> role." in response.content.decode(), url
        assert host_client(workspace, workspace.lead).get(url).status_code == 200, url
    anonymous = host_client(workspace)
    assert anonymous.get("/outbox/")["Location"] == "/sign-in/?next=/outbox/"


def test_outbox_pages_show_the_email_with_working_links(workspace, outbox_only, make_member):
    with tenant_context(workspace):
        survey = survey_make("nps", name="Loop NPS")
        campaign_create(survey=survey, recipients=[{"email": "loop@x.test", "name": "Lou <b>"}])
        assert invitations_send_due() == 1
        invitation = Invitation.objects.get()
        email = OutboxEmail.objects.get()
    assert invitation.status == "sent" and email.invitation_id == invitation.pk and email.category == "survey"
    client = host_client(workspace, workspace.lead)
    listing = client.get("/outbox/").content.decode()
    assert f'<a href="/outbox/{email.pk}/">How likely are you to recommend Acme?</a>' in listing
    assert "Lou &lt;b&gt;" in listing and "Loop NPS</a> (sent)" in listing
    detail = client.get(f"/outbox/{email.pk}/").content.decode()
    assert f'<iframe src="/outbox/{email.pk}/html" title="The email, rendered" sandbox=' in detail
    # Stored with the workspace's address; shown with the one the page was opened on.
    assert f"0 (Not at all likely): http://acme.localhost:8000/s/{invitation.token}?score=0" in email.text
    assert f"0 (Not at all likely): http://acme.localhost/s/{invitation.token}?score=0" in detail
    framed = client.get(f"/outbox/{email.pk}/html")
    body = framed.content.decode()
    assert framed["X-Frame-Options"] == "SAMEORIGIN" and ("sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
                                                          in framed["Content-Security-Policy"].split("; "))
    assert '<head><base target="_top">' in body
    assert "Hi Lou &lt;b&gt;," in body  # the name is escaped in the HTML part
    assert re.findall(r'href="([^"]+)"', body) == [
        *[f"http://acme.localhost/s/{invitation.token}?score={n}" for n in range(11)],
        f"http://acme.localhost/s/{invitation.token}/h", f"http://acme.localhost/u/{invitation.token}"]
    with tenant_context(workspace):
        assert client.get(f"/outbox/{email.pk + 1}/").status_code == 404


def test_unsubscribe_get_asks_and_post_or_one_click_post_unsubscribes(workspace):
    with tenant_context(workspace):
        survey = survey_make("nps")
        first = InvitationFactory(survey=survey, email="u@x.test", status="sent", reminder_at=timezone.now())
        second = InvitationFactory(survey=survey, email="u@x.test", status="scheduled")
        third = InvitationFactory(survey=survey, email="p@x.test", status="sent", reminder_at=timezone.now())
    anonymous = host_client(workspace)
    # A GET (a person's click, or a link scanner's fetch) asks; it unsubscribes nobody.
    page = anonymous.get(f"/u/{first.token}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Unsubscribe from Acme's surveys?" in html and '<form method="post">' in html
    assert "<strong>u@x.test</strong> will not receive Acme's surveys any more." in html
    assert anonymous.head(f"/u/{first.token}").status_code == 200
    with tenant_context(workspace):
        assert Suppression.objects.count() == 0 and Invitation.objects.get(pk=first.pk).status == "sent"
    # A form submitted the instant its page was fetched (a scanner submitting every form)
    # only gets the question again.
    hasty = anonymous.post(f"/u/{first.token}", {"shown": ""})
    assert hasty.status_code == 200 and "Please press Unsubscribe once more to confirm." in hasty.content.decode()
    with tenant_context(workspace):
        assert Suppression.objects.count() == 0 and Invitation.objects.get(pk=first.pk).status == "sent"
    done = anonymous.post(f"/u/{first.token}")
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    assert "You are unsubscribed" in anonymous.get(f"/u/{first.token}").content.decode()
    with tenant_context(workspace):
        assert dict(Invitation.objects.values_list("pk", "status")) == {
            first.pk: "unsubscribed", second.pk: "unsubscribed", third.pk: "sent"}
        assert list(Suppression.objects.values_list("email", "reason", "invitation_id")) == [("u@x.test", "unsubscribed", first.pk)]
    # RFC 8058: the mail client's one-click POST, without a CSRF token.
    from django.test import Client

    strict = Client(HTTP_HOST=workspace.domain_name, enforce_csrf_checks=True)
    response = strict.post(f"/u/{third.token}", "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.content) == (200, b"Unsubscribed.\n")
    with tenant_context(workspace):
        assert Suppression.objects.count() == 2 and Invitation.objects.get(pk=third.pk).status == "unsubscribed"
    unknown = anonymous.get("/u/not-a-token")
    assert unknown.status_code == 404 and "This unsubscribe link is not recognised" in unknown.content.decode()


def test_tokens_and_outbox_are_per_workspace(workspace, other_workspace):
    with tenant_context(workspace):
        invitation = InvitationFactory(survey=survey_make("nps"), email="iso@x.test")
        email = OutboxEmail.objects.create(category="survey", to="a@x.test", from_email="f@x.test", subject="s", text="t")
    assert host_client(other_workspace).get(f"/u/{invitation.token}").status_code == 404
    assert host_client(other_workspace, other_workspace.lead).get(f"/outbox/{email.pk}/").status_code == 404
    with tenant_context(workspace):
        assert Suppression.objects.count() == 0
    connection.set_schema_to_public()


def test_suppression_list_add_and_remove_with_confirmation(workspace):
    with tenant_context(workspace):
        scheduled = InvitationFactory(survey=survey_make("nps"), email="manual@x.test", status="scheduled")
    client = host_client(workspace, workspace.lead)
    added = client.post("/surveys/suppressions/", {"action": "add", "email": "Manual@X.test"})
    assert added.status_code == 302
    page = client.get("/surveys/suppressions/").content.decode()
    assert "manual@x.test will not be surveyed again." in page and "<td>manual@x.test</td><td>Added by a team lead</td>" in page
    with tenant_context(workspace):
        suppression = Suppression.objects.get()
        assert Invitation.objects.get(pk=scheduled.pk).status == "failed"
    again = client.post("/surveys/suppressions/", {"action": "add", "email": "manual@x.test"}, follow=True)
    assert "manual@x.test was already on the list." in again.content.decode()
    invalid = client.post("/surveys/suppressions/", {"action": "add", "email": "nope"})
    assert invalid.status_code == 400 and "Enter a valid email address." in invalid.content.decode()
    confirm = client.post("/surveys/suppressions/", {"action": "remove", "id": suppression.pk})
    assert "Remove manual@x.test from the list?" in confirm.content.decode()
    with tenant_context(workspace):
        assert Suppression.objects.count() == 1  # not before the confirmation
    removed = client.post("/surveys/suppressions/", {"action": "remove_confirmed", "id": suppression.pk}, follow=True)
    assert "manual@x.test was removed: later surveys may be emailed to it." in removed.content.decode()
    with tenant_context(workspace):
        assert Suppression.objects.count() == 0
    found = client.get("/surveys/suppressions/?q=zzz").content.decode()
    assert "No address contains “zzz”." in found
