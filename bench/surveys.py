"""Survey email throughput (issue #5). Sends N invitations (default 10,000) of an NPS
survey to a local SMTP sink (aiosmtpd in a child process, so it does not share this
process's CPU time) through the sender's task code — the same function the Celery worker
runs: one SMTP connection, each invitation marked ``sending`` then ``sent`` — and
reports emails/s. Then the same with the Outbox kept (the local and demo configuration),
and then the answering benchmark of ``bench/_surveys_answering.py``.

    python3 pulse.py bench
    .venv/bin/python bench/surveys.py [--invitations 10000] [--outbox-invitations 2000]

Target on the 2-core machine: >= 200 emails/s. Runs on the throw-away database
``pulse_bench_surveys``.
"""
import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, bench_database, bench_database_drop  # noqa: E402

DATABASE = "pulse_bench_surveys"
SLUG = "bench-surveys"


def sink_main(port: int) -> None:
    """The SMTP sink (child process): counts the messages it accepts; answers "count" on
    stdin with the number so far."""
    from aiosmtpd.controller import Controller

    class Counter:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Counter.count += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "count":
            print(Counter.count, flush=True)
    controller.stop()


class Sink:
    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen([sys.executable, __file__, "--sink", str(self.port)], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def count(self) -> int:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def stop(self):
        self.process.stdin.close()
        self.process.wait(10)


def send_run(workspace, count: int, label: str, sink: Sink) -> float:
    from django.db import connection
    from django.db.models import Count
    from django_tenants.utils import tenant_context

    from surveys.models import Invitation, OutboxEmail, Question, Survey
    from surveys.services.invitations import campaign_create
    from surveys.tasks import invitations_send_due_task

    with tenant_context(workspace):
        Invitation.objects.all().delete()
        OutboxEmail.objects.all().delete()
        survey = Survey.objects.create(kind="nps", name=f"Bench NPS {label}", intro="Two quick questions.")
        Question.objects.create(survey=survey, position=1, key="q1", kind="nps", required=True,
                                text="How likely are you to recommend us to a friend or colleague?",
                                choices=["Not at all likely", "Extremely likely"])
        Question.objects.create(survey=survey, position=2, key="q2", kind="text", text="What is the main reason for your score?")
        recipients = [{"email": f"person{i}@bench.test", "name": f"Person {i}", "customer_external_id": f"c{i}"}
                      for i in range(count)]
        # The send task the commit would queue is run below, in this process.
        with mock.patch("surveys.services.invitations.invitations_send_later"):
            started = time.perf_counter()
            campaign_create(survey=survey, recipients=recipients, reminder_days=3)
            created = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE surveys_invitation")
            before = sink.count()
            started = time.perf_counter()
            sent = 0
            while batch := invitations_send_due_task.run():
                sent += batch
            seconds = time.perf_counter() - started
        received = sink.count() - before
        statuses = dict(Invitation.objects.values_list("status").annotate(n=Count("id")))
        kept = OutboxEmail.objects.count()
    assert sent == count and received == count and statuses == {"sent": count}, (sent, received, statuses)
    print(f"  {label}: created {count:,} invitations in {created:.2f} s; sent {count:,} emails in {seconds:.2f} s "
          f"= {count / seconds:,.0f} emails/s (sink received {received:,}; outbox copies {kept:,})", flush=True)
    return count / seconds


def answering() -> None:
    """The public answer endpoint under 50 concurrent clients for 30 s (``_surveys_answering``):
    once without pauses (saturation), once with customers' ~0.5 s pauses between requests."""
    from _surveys_answering import answer_bench, summary_line

    for think in (0.0, 0.5):
        figures = answer_bench(clients=50, seconds=30, think=think)
        print(summary_line(figures), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invitations", type=int, default=10_000)
    parser.add_argument("--outbox-invitations", type=int, default=2_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        sink_main(args.sink)
        return 0

    sink = Sink()
    # Production's configuration: delivery only, no Outbox copies (EMAIL_OUTBOX off).
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}"
    os.environ["EMAIL_OUTBOX"] = "false"
    bench_database(DATABASE)
    from django.test.utils import override_settings

    from tenants.services import workspace_create

    workspace = workspace_create(name="Bench Surveys", slug=SLUG, lead_email="lead@bench.test",
                                 lead_password="bench-password-123", lead_name="Bench", time_zone="Europe/Paris",
                                 currency="EUR").workspace
    try:
        rate = send_run(workspace, args.invitations, "delivery only (production)", sink)
        with override_settings(EMAIL_OUTBOX=True, EMAIL_BACKEND="surveys.mail.OutboxBackend",
                               EMAIL_DELIVERY_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
            send_run(workspace, args.outbox_invitations, "delivery + Outbox copy (local/demo)", sink)
        print(f"emails/s: {rate:,.0f} (target >= 200) -> {'OK' if rate >= 200 else 'BELOW TARGET'}", flush=True)
        answering()
    finally:
        sink.stop()
        if not args.keep:
            bench_database_drop(DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
