"""Every route of Pulse's URL confs as a concrete path, read from the URL confs themselves
(so a new route is covered by the tests that use this without anyone listing it).

    tenant_pages(workspace) -> {"surveys:edit": "/surveys/3/edit/", ...}  # every route
    html_pages(workspace)   -> ["/", "/settings/kpis/", ...]              # the same paths
    public_pages()          -> {"landing": "/", "signup": "/signup/", "healthz": "/healthz"}

Path arguments are filled with real rows made in ``workspace`` (a survey, a campaign, an
invitation, an Outbox email, a response, an import, a recompute, a record, a team
invitation, an API key, a holiday, a webhook endpoint and delivery, a digest subscription, a survey logo, a password-reset link). A route with an
argument this module cannot fill raises ``RouteNotFilled``: add a line to ``_ARGUMENTS``
(or, with a reason, to ``SKIPPED``) when adding such a route.

Every route is returned, whatever methods its view accepts: a POST-only view answers a
GET with 405, which is an answer too. Callers decide which answers they check (the CSP
test: every text/html one)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import tenant_context

from tests.factories import UserFactory
from tests.ingestion.factories import CustomerFactory, ImportJobFactory
from tests.surveys.factories import InvitationFactory, ResponseFactory, survey_make

TENANT_URLCONF = "config.urls_tenant"
PUBLIC_URLCONF = "config.urls_public"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"

# Routes deliberately left out, each with its reason. Empty today: every route is filled.
SKIPPED: dict[str, str] = {}


_ARGUMENT = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")  # <int:pk>, <token>


class RouteNotFilled(AssertionError):
    """A route has path arguments nobody said how to fill."""


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the pattern when the route has no name
    pattern: str  # "surveys/<int:pk>/edit/"
    parts: tuple  # the RoutePattern of each level, outermost first

    @property
    def arguments(self) -> tuple[str, ...]:
        return tuple(name for part in self.parts for name in part.converters)

    def path(self, **kwargs) -> str:
        """The concrete path, each argument turned into text by its route converter."""
        return "/" + "".join(
            _ARGUMENT.sub(lambda match: part.converters[match["name"]].to_url(kwargs[match["name"]]), str(part))
            for part in self.parts)


def routes(urlconf: str) -> list[Route]:
    """Every route of ``urlconf``, included URL confs walked recursively."""
    found = []

    def walk(resolver: URLResolver, namespace: str, parts: tuple) -> None:
        for entry in resolver.url_patterns:
            if not isinstance(entry.pattern, RoutePattern):
                # re_path(): its arguments cannot be generated from a converter.
                raise RouteNotFilled(f"{entry.pattern!r} is a regular expression route: give it a path() route")
            here = (*parts, entry.pattern)
            if isinstance(entry, URLResolver):
                inner = ":".join(filter(None, [namespace, entry.namespace]))
                walk(entry, inner, here)
            elif isinstance(entry, URLPattern):
                pattern = "".join(str(part) for part in here)
                name = ":".join(filter(None, [namespace, entry.name])) if entry.name else pattern
                found.append(Route(name=name, pattern=pattern, parts=here))

    walk(get_resolver(urlconf), "", ())
    return found


# The arguments of each route that has some, from the rows ``_rows`` made.
_ARGUMENTS = {
    "kpis:recompute-progress": lambda rows: {"pk": rows.recompute.pk},
    "kpis:kpi": lambda rows: {"key": rows.kpi_key},
    "kpis:alert_rule_mute": lambda rows: {"pk": rows.alert.rule_id},
    "kpis:alert_rule_delete": lambda rows: {"pk": rows.alert.rule_id},
    "kpis:alert_ack": lambda rows: {"pk": rows.alert.pk},
    "kpis:kpi_records_csv": lambda rows: {"key": rows.kpi_key},
    "kpis:digest_unsubscribe": lambda rows: {"token": rows.digest_subscription.token},
    "themes:edit": lambda rows: {"pk": rows.theme.pk},
    "themes:delete": lambda rows: {"pk": rows.theme.pk},
    "accounts:password_reset_confirm": lambda rows: {"uidb64": rows.reset_uid, "token": rows.reset_token},
    "accounts:member_role": lambda rows: {"pk": rows.member.pk},
    "accounts:member_active": lambda rows: {"pk": rows.member.pk},
    "accounts:invitation_revoke": lambda rows: {"pk": rows.team_invitation.pk},
    "accounts:invitation_accept": lambda rows: {"token": rows.team_invitation_token},
    "accounts:api_key_revoke": lambda rows: {"pk": rows.api_key.pk},
    "workspace:holiday_delete": lambda rows: {"pk": rows.holiday.pk},
    "ingestion:import": lambda rows: {"pk": rows.import_job.pk},
    "ingestion:import-progress": lambda rows: {"pk": rows.import_job.pk},
    "ingestion:import-rejected": lambda rows: {"pk": rows.import_job.pk},
    "ingestion:dataset": lambda rows: {"key": "customers"},
    "ingestion:sample": lambda rows: {"key": "customers"},
    "ingestion:records": lambda rows: {"key": "customers"},
    "ingestion:record": lambda rows: {"key": "customers", "pk": rows.customer.pk},
    "ingestion:customer": lambda rows: {"external_id": rows.customer.external_id},
    "surveys:edit": lambda rows: {"pk": rows.survey.pk},
    "surveys:preview": lambda rows: {"pk": rows.survey.pk},
    "surveys:duplicate": lambda rows: {"pk": rows.survey.pk},
    "surveys:close": lambda rows: {"pk": rows.survey.pk},
    "surveys:logo": lambda rows: {"name": rows.logo_name},
    "surveys:send": lambda rows: {"pk": rows.survey.pk},
    "surveys:invitations": lambda rows: {"pk": rows.survey.pk},
    "surveys:campaign": lambda rows: {"pk": rows.survey.pk, "campaign_pk": rows.campaign.pk},
    "surveys:outbox_email": lambda rows: {"email_pk": rows.outbox_email.pk},
    "surveys:outbox_email_html": lambda rows: {"email_pk": rows.outbox_email.pk},
    "surveys:unsubscribe": lambda rows: {"token": rows.invitation.token},
    "surveys:answer": lambda rows: {"token": rows.invitation.token},
    "surveys:answer_thanks": lambda rows: {"token": rows.invitation.token},
    "surveys:answer_probe": lambda rows: {"token": rows.invitation.token},
    "surveys:public": lambda rows: {"public_id": rows.survey.public_id},
    "surveys:public_thanks": lambda rows: {"public_id": rows.survey.public_id},
    "surveys:qr": lambda rows: {"public_id": rows.survey.public_id},
    "surveys:detail": lambda rows: {"pk": rows.survey.pk},
    "surveys:responses": lambda rows: {"pk": rows.survey.pk},
    "surveys:responses_csv": lambda rows: {"pk": rows.survey.pk},
    "surveys:response": lambda rows: {"pk": rows.survey.pk, "response_pk": rows.response.pk},
    "api:dataset-records": lambda rows: {"dataset": "customers"},
    "api:staffing-rules": lambda rows: {"channel": "chat"},
    "api:kpi-recompute-detail": lambda rows: {"pk": rows.recompute.pk},
    "api:kpi": lambda rows: {"key": rows.kpi_key},
    "api:survey-responses": lambda rows: {"pk": rows.survey.pk},
    "api:import": lambda rows: {"pk": rows.import_job.pk},
    "api:import-rejected": lambda rows: {"pk": rows.import_job.pk},
    "api:survey": lambda rows: {"pk": rows.survey.pk},
    "api:survey-invitations": lambda rows: {"pk": rows.survey.pk},
    "api:alert-rule": lambda rows: {"pk": rows.alert.rule_id},
    "api:alert-acknowledge": lambda rows: {"pk": rows.alert.pk},
    "webhooks:detail": lambda rows: {"pk": rows.webhook_delivery.endpoint_id},
    "webhooks:delete": lambda rows: {"pk": rows.webhook_delivery.endpoint_id},
    "webhooks:rotate": lambda rows: {"pk": rows.webhook_delivery.endpoint_id},
    "webhooks:test": lambda rows: {"pk": rows.webhook_delivery.endpoint_id},
    "webhooks:redeliver": lambda rows: {"pk": rows.webhook_delivery.endpoint_id, "delivery_pk": rows.webhook_delivery.pk},
    "api:webhook": lambda rows: {"pk": rows.webhook_delivery.endpoint_id},
    "api:webhook-deliveries": lambda rows: {"pk": rows.webhook_delivery.endpoint_id},
    "api:webhook-test": lambda rows: {"pk": rows.webhook_delivery.endpoint_id},
}


@dataclass
class _Rows:
    survey: object
    campaign: object
    invitation: object
    outbox_email: object
    response: object
    import_job: object
    recompute: object
    customer: object
    member: object
    team_invitation: object
    team_invitation_token: str
    api_key: object
    holiday: object
    logo_name: str
    reset_uid: str
    reset_token: str
    alert: object
    webhook_delivery: object  # a failed delivery, of an endpoint
    digest_subscription: object  # the member's, active
    theme: object
    kpi_key: str = "nps"


def _rows(workspace) -> _Rows:
    """One real row of each kind a route names, in ``workspace``."""
    from django.utils import timezone

    from kpis.models import Alert, AlertRule, DigestSubscription, KpiRecompute
    from kpis.themes.models import Theme
    from surveys.models import Campaign, OutboxEmail, SurveySettings
    from surveys.selectors.authoring import survey_logo_name
    from tenants.accounts.selectors import invitation_token
    from tenants.accounts.services import api_key_create, invitation_create
    from tenants.webhooks.models import WebhookDelivery, WebhookEndpoint
    from tenants.workspace.models import Holiday

    with tenant_context(workspace):
        lead = workspace.lead
        survey = survey_make("nps", name="Pages NPS")
        campaign = Campaign.objects.create(survey=survey, name="March", scheduled_at=survey.created_at)
        invitation = InvitationFactory(survey=survey, campaign=campaign)
        outbox_email = OutboxEmail.objects.create(
            category="survey", to=f"{invitation.name} <{invitation.email}>", from_email="Acme <no-reply@acme.test>",
            subject="How likely are you to recommend Acme?", text="Hi,\nHow likely…", invitation=invitation,
            html="<html><head></head><body><p>Hi,</p><p>How likely are you to recommend Acme?</p></body></html>")
        settings = SurveySettings.objects.get_or_create(pk=1)[0]
        settings.logo.save("pages-logo.gif", ContentFile(GIF))
        team_invitation = invitation_create(email="new-agent@acme.test", role="agent", invited_by=lead)
        rows = _Rows(
            survey=survey, campaign=campaign, invitation=invitation, outbox_email=outbox_email,
            response=ResponseFactory(survey=survey, invitation=invitation),
            import_job=ImportJobFactory(created_by=lead),
            recompute=KpiRecompute.objects.create(status=KpiRecompute.Status.DONE),
            customer=CustomerFactory(), member=(member := UserFactory(role="agent")),
            team_invitation=team_invitation, team_invitation_token=invitation_token(team_invitation),
            api_key=api_key_create(name="Pages", created_by=lead).api_key,
            holiday=Holiday.objects.create(date=date(2026, 12, 25), name="Christmas"),
            logo_name=survey_logo_name(settings),
            reset_uid=urlsafe_base64_encode(force_bytes(lead.pk)), reset_token=default_token_generator.make_token(lead),
            alert=Alert.objects.create(
                rule=AlertRule.objects.create(kpi="csat", kind="threshold", low=80.0, created_by=lead),
                period_start=date(2026, 3, 1), value=70.0, expected_low=80.0, message="CSAT is 70 %, outside its bound (≥ 80).",
                fired_at=timezone.now()),
            webhook_delivery=WebhookDelivery.objects.create(
                endpoint=WebhookEndpoint.objects.create(url="https://hooks.example.test/in", events=["alert.fired"],
                                                        secret="whsec_pages"),
                event_type="alert.fired", payload={"id": "e", "type": "alert.fired", "data": {}}, status="failed",
                attempts=7, response_code=500, error="HTTP 500: not a 2xx answer."),
            digest_subscription=DigestSubscription.objects.create(user=member, active=True, subscribed_since=timezone.now()),
            theme=Theme.objects.create(name="Refunds", phrases=["refund"]),
        )
    connection.set_schema_to_public()
    return rows


def _fill(route_list: list[Route], rows: _Rows | None) -> dict[str, str]:
    pages, unfilled = {}, []
    for route in route_list:
        if route.name in SKIPPED:
            continue
        if not route.arguments:
            pages[route.name] = route.path()
        elif route.name in _ARGUMENTS and rows is not None:
            pages[route.name] = route.path(**_ARGUMENTS[route.name](rows))
        else:
            unfilled.append(f"{route.name} ({route.pattern})")
    if unfilled:
        raise RouteNotFilled("Routes with arguments tests/security/pages.py cannot fill (add them to _ARGUMENTS, "
                             f"or to SKIPPED with a reason): {', '.join(unfilled)}")
    return pages


def tenant_pages(workspace) -> dict[str, str]:
    """Every route of a workspace's URL conf, by name, as a path with real arguments made
    in ``workspace`` (which needs its ``lead``, as the ``workspace`` fixture's has)."""
    return _fill(routes(TENANT_URLCONF), _rows(workspace))


def html_pages(workspace) -> list[str]:
    """The paths of ``tenant_pages(workspace)``."""
    return list(tenant_pages(workspace).values())


def public_pages() -> dict[str, str]:
    """Every route of the public site's URL conf (none takes an argument)."""
    return _fill(routes(PUBLIC_URLCONF), None)
