from celery import shared_task
from tenant_schemas_celery.task import TenantTask

from ingestion.sentiment import mentions_score_sentiment
from ingestion.services.import_run import import_fail, import_job_run
from ingestion.services.imports import imports_cleanup, imports_resume
from tenants.tasking import LONG_TASK


class ImportTask(TenantTask):
    """tenant-schemas-celery's task class (it switches the schema), recording failures."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # A task that failed for good (an unexpected error, not a killed worker: that one
        # is redelivered) leaves its job saying why instead of running forever.
        import_fail(job_id=args[0], message=f"The import stopped on an internal error ({type(exc).__name__}); "
                                            "the rows imported so far are kept. Upload the file again to finish it.")


@shared_task(name="ingestion.import_run", base=ImportTask, **LONG_TASK)
def import_run_task(job_id: str) -> None:
    import_job_run(job_id=job_id)


@shared_task(name="ingestion.imports_resume")
def imports_resume_task() -> int:
    return imports_resume()


@shared_task(name="ingestion.imports_cleanup")
def imports_cleanup_task() -> int:
    return imports_cleanup()


@shared_task(name="ingestion.mentions_score_sentiment", **LONG_TASK)
def mentions_score_sentiment_task() -> int:
    """Score the workspace's mentions imported without a sentiment (idempotent: a retry or a
    second run scores only what is still unscored). Enqueue with tenants.tasking.enqueue
    after social mentions are written."""
    return mentions_score_sentiment()
