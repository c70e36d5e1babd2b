#!/usr/bin/env python3
"""Pulse's two commands. Needs nothing but Python 3.11+.

    python3 pulse.py up      # web + Celery worker + beat, demo workspace, embedded servers
    python3 pulse.py test    # the whole test suite (pytest arguments may follow)
    python3 pulse.py bench   # the benchmarks under bench/ (make bench)

Both create ``.venv`` and install ``requirements.txt`` when needed. When DATABASE_URL /
REDIS_URL are unset, an embedded PostgreSQL and Redis run with their data under ``var/``.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / ".requirements.sha256"
CHROMIUM = Path("/usr/bin/chromium")


def say(message: str) -> None:
    print(f"\033[1m[pulse]\033[0m {message}", flush=True)


# ---------------------------------------------------------------- bootstrap (stdlib only)

def ensure_venv() -> None:
    """Create the virtual environment and install requirements when they changed, then
    re-run this script with the environment's Python."""
    if sys.version_info < (3, 11):
        sys.exit("Pulse needs Python 3.11 or newer.")
    if not VENV_PYTHON.exists():
        say("creating the virtual environment in .venv …")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        say("installing requirements.txt (first run takes a minute) …")
        pip = [str(VENV_PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run(pip + ["install", "--upgrade", "pip"], check=True)
        subprocess.run(pip + ["install", "-r", str(REQUIREMENTS)], check=True)
        STAMP.write_text(digest)
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium (Playwright cannot download browsers here)."""
    if CHROMIUM.exists() or os.environ.get("PULSE_SKIP_CHROMIUM_INSTALL"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        say("Chromium is missing and cannot be installed automatically (needs root and apt-get); browser tests will fail.")
        return
    say("installing Chromium for the browser tests (apt-get) …")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "fonts-dejavu-core"], check=True, env=env,
                   stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------- commands

def manage(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=ROOT, env=env)


def services_env(settings_module: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from config.embedded import ensure_services  # starts embedded servers only when needed

    ensure_services()
    return {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "PYTHONUNBUFFERED": "1"}


def cmd_up(argv: list[str]) -> int:
    port = os.environ.get("PORT", "8000")
    env = services_env("config.settings.local")
    env.setdefault("PULSE_PORT", port)
    say("migrating the database …")
    manage("migrate_schemas", "--verbosity", "0", env=env)
    manage("seed_demo", "--if-missing", env=env)
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    processes = {
        "web": [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        "worker": celery + ["worker", "-Q", "default,email,long", "--concurrency", "2", "--loglevel", "INFO",
                            "--hostname", "pulse@%h"],
        "beat": celery + ["beat", "--loglevel", "INFO", "--schedule", str(ROOT / "var" / "celerybeat-schedule")],
    }
    (ROOT / "var").mkdir(exist_ok=True)
    children = {name: subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True) for name, cmd in processes.items()}
    say(f"Pulse is running: http://localhost:{port}/ (create a workspace)")
    say(f"Demo workspace:   http://demo.localhost:{port}/ — sign in as lead@demo.test / pulse-demo-2026")
    say(f"Health:           http://localhost:{port}/healthz · API docs: http://demo.localhost:{port}/api/docs/")
    say("Press Ctrl-C to stop everything.")

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                say(f"{name} exited with code {child.returncode}; stopping the rest.")
                exit_code = child.returncode or 1
                stopping = True
                break
        time.sleep(0.5)
    say("stopping web, worker and beat …")
    for child in children.values():
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children.values():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    say("stopped (embedded servers stop as this process exits; data stays in var/).")
    return exit_code


def cmd_test(argv: list[str]) -> int:
    ensure_chromium()
    env = services_env("config.settings.test")
    result = subprocess.run([sys.executable, "-m", "pytest", *argv], cwd=ROOT, env=env)
    return result.returncode


def cmd_bench(argv: list[str]) -> int:
    """Run every benchmark script under bench/ (each prints its own figures)."""
    services_env("config.settings.local")
    failed = 0
    for script in sorted((ROOT / "bench").glob("[!_]*.py")):  # _*.py are shared helpers
        say(f"bench/{script.name}")
        failed |= subprocess.run([sys.executable, str(script), *argv], cwd=ROOT).returncode
    return failed


COMMANDS = {"up": cmd_up, "test": cmd_test, "bench": cmd_bench}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    os.chdir(ROOT)
    ensure_venv()
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
