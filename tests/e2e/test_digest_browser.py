"""Issue #12's digest in a real browser, through the real pieces: a team lead picks the
digest's KPI cards under Settings → Digest email, opts in on their own digest page, sends
a preview; the Celery worker emails it through a real SMTP server and the Outbox shows it
with its charts (inline images, cid: turned into data: URIs). Screenshots of each page;
the setup time in the UI is measured (issue #12: under a minute)."""
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from kpis.digests import digest_last_period
from kpis.models import DigestSettings, DigestSubscription
from kpis.services.compute import kpis_compute
from tests.e2e.helpers import live_base, sign_in
from tests.kpis.helpers import csat_answers, load_into, social_mention

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


def test_a_lead_sets_up_the_digest_and_sees_the_preview_with_its_charts(
        committed_workspace, live_server, celery_worker, smtp_server, page, screenshot):
    workspace = committed_workspace("digestui")
    week = digest_last_period("weekly", timezone.now(), workspace.time_zone)
    # Eight weeks of CSAT answers and mentions up to the last complete week: cards with
    # values and charts. That week: CSAT 30 of 35 (85.7%), 12 mentions; the week before
    # 20 of 35 (57.1%), 8 mentions.
    answers, mentions = [], []
    for weeks_ago, (positive, count) in enumerate([(30, 12), (20, 8), (24, 9), (26, 11), (22, 7), (25, 10), (21, 6), (23, 9)]):
        monday = week.start - timedelta(weeks=weeks_ago)
        answers += csat_answers(f"w{weeks_ago}-", f"{monday + timedelta(days=1)}", positive, 35 - positive)
        mentions += [social_mention(f"m{weeks_ago}-{i}", f"{monday + timedelta(days=i % 7)}T12:00") for i in range(count)]
    load_into(workspace, "survey_responses", answers)
    load_into(workspace, "social_mentions", mentions)
    with tenant_context(workspace):
        kpis_compute(since=week.start - timedelta(days=84), until=week.end)
    base = live_base(live_server, workspace)
    sign_in(page, base, workspace.lead.email)

    started = time.monotonic()
    page.get_by_role("link", name="Settings", exact=True).click()
    page.locator(".subnav").get_by_role("link", name="Digest email").click()
    expect(page.get_by_role("heading", name="Digest email", exact=True)).to_be_visible()
    page.get_by_label("Net revenue retention", exact=True).uncheck()
    page.get_by_label("Customer retention rate", exact=True).uncheck()
    page.get_by_label("Mention volume", exact=True).check()
    page.get_by_label("Position of Mention volume").fill("1")
    page.get_by_role("button", name="Save the digest").click()
    expect(page.get_by_text("Digest saved: Mention volume, Net Promoter Score, Customer satisfaction (CSAT)")).to_be_visible()
    # The menu bar (with its digest envelope) holds on one line at 1280 px.
    assert abs(page.locator(".usermenu").bounding_box()["y"] - page.locator(".brand").bounding_box()["y"]) < 10
    screenshot("digest-settings")
    page.get_by_role("link", name="Digest email", exact=True).first.click()  # the envelope in the menu bar
    page.wait_for_url(f"{base}/account/digest/")
    page.get_by_label("Email me the digest").check()
    page.get_by_label("Weekly (Monday 08:00)").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("You will get the weekly digest by email.")).to_be_visible()
    setup_seconds = time.monotonic() - started
    expect(page.locator(".digest-next")).to_contain_text("Next digest: Monday")
    expect(page.locator(".digest-next")).to_contain_text(workspace.time_zone)
    screenshot("digest-account")
    with tenant_context(workspace):
        assert DigestSettings.load().kpis == ["social_mention_volume", "nps", "csat", "first_contact_resolution",
                                              "mean_time_to_resolution"]
        assert DigestSubscription.objects.get(user__email=workspace.lead.email).active

    page.goto(f"{base}/settings/kpis/digest/")
    expect(page.get_by_role("heading", name="Subscribed (1)")).to_be_visible()
    page.get_by_role("button", name="Send me a preview now").click()
    expect(page.get_by_text(f"Preview on its way to {workspace.lead.email}")).to_be_visible()
    [email] = smtp_server.wait_for(lambda m: "[Digestui] Preview" in m["Subject"], timeout=90)
    assert email["Subject"] == f"[Digestui] Preview: Weekly digest, {week.label}"
    assert len([part for part in email.walk() if part.get_content_type() == "image/png"]) == 2  # mentions, CSAT

    page.goto(f"{base}/outbox/")
    page.get_by_role("link", name=f"[Digestui] Preview: Weekly digest, {week.label}").click()
    frame = page.frame_locator("iframe[title='The email, rendered']")
    expect(frame.get_by_role("heading", name=week.label)).to_be_visible()
    charts = frame.locator("img")
    expect(charts).to_have_count(2)
    for i in range(2):
        chart = charts.nth(i)
        assert chart.get_attribute("src").startswith("data:image/png;base64,")
        # Decoded and drawn: a broken image has no natural width.
        assert chart.evaluate("(img) => img.complete && img.naturalWidth") == 480
    expect(frame.get_by_text("Mention volume")).to_be_visible()
    screenshot("digest-outbox-preview")
    print(f"digest set up in the UI in {setup_seconds:.1f} s")
    assert setup_seconds < 60
