from celery import shared_task

from tenants.webhooks.delivery import webhook_deliveries_resume, webhook_delivery_attempt


# The attempts are counted on the delivery row (the service decides when it has failed for
# good), so Celery's own retry limit is off; the task only waits the service's delay.
@shared_task(name="webhooks.deliver", bind=True, max_retries=None)
def webhook_deliver_task(self, delivery_id: int) -> None:
    delay = webhook_delivery_attempt(delivery_id=delivery_id)
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task(name="webhooks.deliveries_resume")
def webhook_deliveries_resume_task() -> int:
    return webhook_deliveries_resume()
