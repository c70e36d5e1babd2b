"""The public answer endpoint under load (issue #5): 50 concurrent clients for 30 s against
a real multi-process server (gunicorn), each answering its own invitations the way a
customer does:

  1. GET  /s/<token>?score=N   the score clicked in the email (the page, score preselected:
                               a GET never answers, link scanners fetch every link)
  2. POST /s/<token>           the score and the rest of the answers, with the page's signed
                               "shown" stamp (stored, 303 to the thanks page)
  3. GET  /s/<token>/thanks    the page the browser lands on

The clients send a browser's User-Agent and the invitations were delivered an hour ago; the
server runs with SURVEY_MIN_DWELL_SECONDS=0 so that clients without pauses are not held
as too fast (the scanner checks still run on every request: they are part of the cost).

Prints requests/s, p50/p95/p99 latency per step and overall, the error count, and checks
in the database that every answer was stored exactly once: one Response per invitation
answered, one Answer per question answered, each with the value sent last.

    python3 pulse.py bench                      # every benchmark
    .venv/bin/python bench/_surveys_answering.py [--clients 50] [--seconds 30] [--workers 2] [--threads 4]

Target: p95 <= 100 ms, zero errors. Run alone it measures twice: clients with no pause
between requests (saturation: 50 clients then wait on 2 cores, so latency is 50 / the
throughput), and clients pausing ~0.5 s between requests as customers reading the page do.
It also prints the server's CPU per request (gunicorn + PostgreSQL backends), a figure
that does not depend on what else the machine runs. ``answer_bench(...)`` is what
``bench/surveys.py`` calls; run alone it uses the throw-away database
``pulse_bench_answering``.
"""
import argparse
import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, bench_database, bench_database_drop  # noqa: E402

# What a person's browser sends: the survey pages hold answers from scanners' agents.
BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

DATABASE = "pulse_bench_answering"
SLUG = "bench-answer"
INVITATIONS_PER_CLIENT = 400  # more than a client gets through in 30 s


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def setup(*, clients: int, per_client: int = INVITATIONS_PER_CLIENT) -> tuple[object, list[str]]:
    """A fresh workspace with an NPS survey and ``clients × per_client`` invitations."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from surveys.models import Invitation, Question, Survey
    from tenants.models import Workspace
    from tenants.services import workspace_create, workspace_delete

    stale = Workspace.objects.filter(slug=SLUG).first()
    if stale is not None:
        workspace_delete(workspace=stale)
    workspace = workspace_create(name="Bench answers", slug=SLUG, lead_email="lead@bench.test",
                                 lead_password="correct-horse-battery-9", time_zone="Europe/Paris").workspace
    with tenant_context(workspace):
        survey = Survey.objects.create(kind="nps", name="Bench NPS", thank_you="Thanks!")
        Question.objects.bulk_create([
            Question(survey=survey, position=1, key="q1", kind="nps", required=True,
                     text="How likely are you to recommend us?", choices=["Not at all likely", "Extremely likely"]),
            Question(survey=survey, position=2, key="q2", kind="text", text="What is the main reason for your score?"),
        ])
        now = timezone.now()
        invitations = [Invitation(survey=survey, email=f"c{n}@bench.test", status="sent", scheduled_at=now - timedelta(hours=1),
                                  sent_at=now - timedelta(hours=1), expires_at=now + timedelta(days=28))
                       for n in range(clients * per_client)]
        Invitation.objects.bulk_create(invitations, batch_size=5000)
        tokens = list(Invitation.objects.order_by("pk").values_list("token", flat=True))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.set_schema_to_public()
    return workspace, tokens


def serve(*, workers: int, threads: int, port: int) -> subprocess.Popen:
    """gunicorn on the benchmark database with the production settings (plain HTTP on
    localhost: no TLS redirect), the public link's rate limit lifted (every client shares
    127.0.0.1)."""
    import secrets

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": secrets.token_urlsafe(50),
           "SURVEY_MIN_DWELL_SECONDS": "0",
           "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "ERROR", "CONN_MAX_AGE": "600", "SURVEY_PUBLIC_RATE": "",
           "PULSE_BASE_DOMAIN": "localhost"}
    # DEBUG off serves hashed static names from the manifest, as in production.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    cmd = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(workers), "--threads", str(threads),
           "--worker-class", "gthread" if threads > 1 else "sync", "--bind", f"127.0.0.1:{port}",
           "--log-level", "warning", "--backlog", "512", "--keep-alive", os.environ.get("BENCH_KEEPALIVE", "30")]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def wait_until_up(host: str, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/s/not-a-token", headers={"Host": host})
            if conn.getresponse().status == 404:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


@dataclass
class ClientResult:
    timings: dict = field(default_factory=lambda: {"score": [], "page": [], "post": []})
    errors: list = field(default_factory=list)
    # token → (score, comment or None when only the score was sent)
    answered: dict = field(default_factory=dict)


class Customer(threading.Thread):
    """One client with its own keep-alive connection and CSRF cookie, answering its own
    invitations one after the other until the time is up."""

    def __init__(self, *, host: str, port: int, tokens: list[str], stop_at: float, think: float, seed: int):
        super().__init__(daemon=True)
        self.host, self.port, self.tokens, self.stop_at, self.think = host, port, tokens, stop_at, think
        self.random = random.Random(seed)
        self.result = ClientResult()
        self.conn = None
        self.cookie = ""
        self.csrf = ""

    def request(self, kind: str | None, method: str, path: str, body: str | None = None):
        headers = {"Host": self.host, "User-Agent": BROWSER_AGENT}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                content = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once, as browsers do.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if kind:
                self.result.timings[kind].append(elapsed)
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return response, content

    def run(self):
        # With think time, customers arrive spread over one pause, not all at the same instant.
        self.pause()
        try:
            # The CSRF cookie and token a browser gets with its first page.
            response, content = self.request(None, "GET", f"/s/{self.tokens[-1]}")
            self.cookie = "; ".join(c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or [])
            self.csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content).group(1).decode()
        except Exception as error:  # noqa: BLE001 - the bench reports it and goes on
            self.result.errors.append(f"setup: {error!r}")
            return
        for token in self.tokens[:-1]:
            if time.monotonic() >= self.stop_at:
                return
            score = self.random.randint(0, 10)
            try:
                response, content = self.request("score", "GET", f"/s/{token}?score={score}")
                if response.status != 200:
                    self.result.errors.append(f"score {response.status}")
                    continue
                shown = re.search(rb'name="shown" value="([^"]+)"', content).group(1).decode()
                self.pause()
                score = self.random.randint(0, 10)
                comment = f"reason {self.random.randint(0, 10**6)}"
                body = urlencode({"csrfmiddlewaretoken": self.csrf, "shown": shown, "q1": score, "q2": comment})
                response, _ = self.request("post", "POST", f"/s/{token}", body)
                if response.status != 303:
                    self.result.errors.append(f"post {response.status}")
                    continue
                self.result.answered[token] = (score, comment)
                self.pause()
                response, _ = self.request("page", "GET", response.getheader("Location"))
                if response.status != 200:
                    self.result.errors.append(f"page {response.status}")
                self.result.answered[token] = (score, comment)
                self.pause()
            except Exception as error:  # noqa: BLE001 - counted as an error, the client goes on
                self.result.errors.append(repr(error))
                self.conn = None

    def pause(self):
        if self.think:
            time.sleep(self.random.uniform(0, 2 * self.think))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (Linux /proc), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(server: subprocess.Popen | None) -> tuple[float, float]:
    """CPU used so far by the server's processes and by the PostgreSQL backends serving
    the benchmark database: what one request costs, whatever else the machine runs."""
    from django.db import connection

    web = []
    if server is not None:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        web = [server.pid, *(int(p) for p in children.read_text().split())] if children.exists() else [server.pid]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        database = [row[0] for row in cursor.fetchall()]
    return sum(_cpu_seconds(pid) for pid in web), sum(_cpu_seconds(pid) for pid in database)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def verify(workspace, answered: dict[str, tuple[int, str | None]]) -> list[str]:
    """Every answer stored exactly once, with the value sent last."""
    from django.db.models import Count
    from django_tenants.utils import tenant_context

    from surveys.models import Answer, Invitation, Response

    problems = []
    with tenant_context(workspace):
        responses = Response.objects.count()
        if responses != len(answered):
            problems.append(f"{responses} responses for {len(answered)} invitations answered")
        expected_answers = sum(1 if comment is None else 2 for _, comment in answered.values())
        answers = Answer.objects.count()
        if answers != expected_answers:
            problems.append(f"{answers} answers stored, {expected_answers} sent")
        duplicates = Answer.objects.values("response", "question").annotate(n=Count("id")).filter(n__gt=1).count()
        if duplicates:
            problems.append(f"{duplicates} duplicated answers")
        stored = {token: (score, comment) for token, score, comment in
                  Response.objects.values_list("invitation__token", "score", "comment")}
        wrong = [t for t, (score, comment) in answered.items() if stored.get(t) != (score, comment or "")]
        if wrong:
            problems.append(f"{len(wrong)} responses differ from what was sent last, e.g. {wrong[0]}")
        held = Response.objects.held().count()
        if held:
            problems.append(f"{held} answers held for review as a scanner's")
        not_responded = Invitation.objects.filter(token__in=list(answered)).exclude(status="responded").count()
        if not_responded:
            problems.append(f"{not_responded} answered invitations not marked responded")
    return problems


# Measured on 2 cores: one gunicorn process per core with 4 threads each served ~300
# requests/s at ~5.5 ms of server CPU per request; 3 or 4 processes spent 7–8 ms per
# request (more switching between processes) and served less; 8 threads did not help.
WORKERS = os.cpu_count() or 2
THREADS = 4


def answer_bench(*, clients: int = 50, seconds: float = 30, workers: int = WORKERS, threads: int = THREADS,
                 think: float = 0.0, base_url: str | None = None) -> dict:
    """Run the benchmark on the database Django is set up with (``bench_database`` first).
    ``base_url``: a server already serving that database (else gunicorn is started here)."""
    workspace, tokens = setup(clients=clients)
    host = workspace.domain_name
    server = None
    if base_url is None:
        port = _free_port()
        server = serve(workers=workers, threads=threads, port=port)
    else:
        port = int(base_url.rstrip("/").rsplit(":", 1)[1])
    try:
        wait_until_up(host, port)
        stop_at = time.monotonic() + seconds
        per_client = len(tokens) // clients
        customers = [Customer(host=host, port=port, tokens=tokens[n * per_client:(n + 1) * per_client],
                              stop_at=stop_at, think=think, seed=n) for n in range(clients)]
        cpu_before = server_cpu_seconds(server)
        started = time.perf_counter()
        for customer in customers:
            customer.start()
        for customer in customers:
            customer.join()
        elapsed = time.perf_counter() - started
        # Backends of connections closed during the run are missed: connections persist
        # (CONN_MAX_AGE), so that is none in practice.
        cpu_after = server_cpu_seconds(server)
        cpu_web, cpu_database = (after - before for after, before in zip(cpu_after, cpu_before))
        cpu_used = cpu_web + cpu_database
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)

    timings = {kind: [t for c in customers for t in c.result.timings[kind]] for kind in ("score", "page", "post")}
    every = [t for kind in timings.values() for t in kind]
    errors = [e for c in customers for e in c.result.errors]
    answered = {t: v for c in customers for t, v in c.result.answered.items()}
    problems = verify(workspace, answered)
    figures = {
        "clients": clients, "think": think, "seconds": round(elapsed, 1), "requests": len(every),
        "requests_per_s": round(len(every) / elapsed, 1), "errors": len(errors),
        "invitations_answered": len(answered), "problems": problems,
        "server_cpu_ms_per_request": round(cpu_used * 1000 / max(1, len(every)), 2),
        "web_cpu_ms_per_request": round(cpu_web * 1000 / max(1, len(every)), 2),
        "database_cpu_ms_per_request": round(cpu_database * 1000 / max(1, len(every)), 2),
        **{f"{kind}_{name}": round(percentile(values, p), 1) for kind, values in [("all", every), *timings.items()]
           for name, p in (("p50", 50), ("p95", 95), ("p99", 99))},
    }
    print(f"{clients} clients, {elapsed:.1f} s, gunicorn {workers} workers × {threads} threads"
          f"{f', think time ~{think * 1000:.0f} ms' if think else ', no think time'}")
    print(f"  {len(every):,} requests, {figures['requests_per_s']:.0f} requests/s, {len(errors)} errors"
          f"{' (' + '; '.join(sorted(set(errors))[:5]) + ')' if errors else ''}")
    for kind, label in (("score", "GET ?score= (one click)"), ("page", "GET thanks page"), ("post", "POST answers"),
                        ("all", "all requests")):
        values = every if kind == "all" else timings[kind]
        print(f"  {label:<24} n={len(values):>6,}  p50 {percentile(values, 50):6.1f} ms  "
              f"p95 {percentile(values, 95):6.1f} ms  p99 {percentile(values, 99):6.1f} ms  "
              f"mean {statistics.fmean(values) if values else float('nan'):6.1f} ms")
    print(f"  server CPU: {figures['server_cpu_ms_per_request']:.2f} ms per request (gunicorn "
          f"{figures['web_cpu_ms_per_request']:.2f} + PostgreSQL {figures['database_cpu_ms_per_request']:.2f}) "
          f"→ at most ~{os.cpu_count() * 1000 / max(figures['server_cpu_ms_per_request'], 0.01):.0f} requests/s "
          f"on {os.cpu_count()} dedicated cores; load average during the run "
          f"{os.getloadavg()[0]:.1f}")
    print(f"  {len(answered):,} invitations answered: " + ("every answer stored exactly once" if not problems
                                                            else "PROBLEMS: " + "; ".join(problems)))
    return figures


def summary_line(figures: dict) -> str:
    scenario = f"think ~{figures['think'] * 1000:.0f} ms" if figures["think"] else "no think time (saturation)"
    met = figures["all_p95"] <= 100 and figures["errors"] == 0 and not figures["problems"]
    return (f"{scenario}: p95 = {figures['all_p95']:.1f} ms (target <= 100), {figures['requests_per_s']:.0f} requests/s, "
            f"errors = {figures['errors']} (target 0), "
            f"{'stored exactly once' if not figures['problems'] else 'NOT stored exactly once'} → "
            f"{'target met' if met else 'target NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--think", type=float, default=None,
                        help="mean pause between a client's requests (s); default: two runs, 0 and 0.5")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args, _ = parser.parse_known_args()
    bench_database(DATABASE)
    runs = []
    for think in ([args.think] if args.think is not None else [0.0, 0.5]):
        runs.append(answer_bench(clients=args.clients, seconds=args.seconds, workers=args.workers,
                                 threads=args.threads, think=think))
        print()
    for figures in runs:
        print(summary_line(figures))
    if not args.keep:
        bench_database_drop(DATABASE)
    return 0 if all(f["errors"] == 0 and not f["problems"] for f in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
