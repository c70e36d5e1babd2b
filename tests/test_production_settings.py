"""Production settings are checked in a subprocess: they are imported fresh, as a server would."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "k" * 20 + "9f8e7d6c5b4a39281706f5e4d3c2b1a0zyxwvuts"


def run_manage(*args, **env):
    # Only what a deployment would have: no secrets or test-only switches from this process.
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    base.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", "ALLOWED_HOSTS": "pulse.example.com,.pulse.example.com"})
    base.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pulse")
    base.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True)


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check")
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = run_manage("check", SECRET_KEY="short")
    assert result.returncode != 0
    assert "SECRET_KEY must be a random value of at least 50 characters in production." in result.stderr


def test_production_refuses_debug():
    result = run_manage("check", SECRET_KEY=GOOD_SECRET, DEBUG="true")
    assert result.returncode != 0
    assert "DEBUG must be off in production." in result.stderr


def test_check_deploy_passes_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=GOOD_SECRET)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
