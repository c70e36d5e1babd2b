"""Closing the loop: a detractor's or an unhappy customer's answer is followed up by
someone on the team. The answering service opens the follow-up when the score arrives;
these services assign it and mark it done."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from surveys.models import Response
from tenants.accounts.models import Role, User

UNCHANGED = object()


@transaction.atomic
def response_followup_update(*, response: Response, by: User, status: str | None = None, assignee=UNCHANGED,
                             note: str | None = None) -> Response:
    """Change a response's follow-up: its status ('' not needed, open, done), who owns it
    and the note. Team leads change anything; an agent only the follow-ups assigned to them,
    and cannot hand them to someone else."""
    response = Response.objects.select_for_update().get(pk=response.pk)
    if not by.is_team_lead:
        if not by.has_role(Role.AGENT) or response.followup_assignee_id != by.pk:
            raise PermissionDenied("Only a team lead or the person this follow-up is assigned to can change it.")
        if assignee is not UNCHANGED and getattr(assignee, "pk", None) != response.followup_assignee_id:
            raise PermissionDenied("Only a team lead can assign a follow-up to someone else.")
    if status is not None:
        if status not in Response.FollowUp.values:
            raise ValidationError({"status": f"Unknown follow-up status '{status}' (use open, done or nothing)."})
        if status == Response.FollowUp.DONE and response.followup != Response.FollowUp.DONE:
            response.followed_up_at = timezone.now()
        elif status != Response.FollowUp.DONE:
            response.followed_up_at = None
        response.followup = status
    if assignee is not UNCHANGED:
        if assignee is not None and (not assignee.is_active or not assignee.has_role(Role.AGENT)):
            raise ValidationError({"assignee": "Follow-ups go to an active agent or team lead of this workspace."})
        response.followup_assignee = assignee
        if assignee is not None and response.followup == Response.FollowUp.NONE:
            response.followup = Response.FollowUp.OPEN  # assigning something asks for a follow-up
    if note is not None:
        response.followup_note = note.strip()
    response.save(update_fields=["followup", "followup_assignee", "followup_note", "followed_up_at"])
    return response
