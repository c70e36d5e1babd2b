from celery import shared_task

from kpis.themes.services import theme_match_all, themes_match
from tenants.tasking import LONG_TASK


# Both replace matches in one transaction: idempotent, safe to run again after a killed
# worker (acks_late re-delivers them).
@shared_task(name="themes.match_theme", **LONG_TASK)
def theme_match_task(theme_id: int) -> int:
    return theme_match_all(theme_id=theme_id)


@shared_task(name="themes.match", **LONG_TASK)
def themes_match_task() -> int:
    return themes_match()


@shared_task(name="themes.match_full", **LONG_TASK)
def themes_match_full_task() -> int:
    return themes_match(full=True)
