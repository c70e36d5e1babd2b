import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from ingestion.generator import World
from kpis.themes.demo import demo_themes_load
from surveys.demo import demo_surveys_load
from tenants.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_SLUG, DEMO_TEAM, DatasetLoad, demo_data_load, demo_kpis_compute, \
    demo_workspace_ensure
from tenants.models import Workspace


class Command(BaseCommand):
    help = ("Create (or refresh) the 'demo' workspace, fill it with a year of generated data and print where "
            "to sign in.")

    def add_arguments(self, parser):
        parser.add_argument("--if-missing", action="store_true", help="Do nothing when the demo workspace exists")
        parser.add_argument("--scale", type=float, default=1.0,
                            help="Multiply the data sizes (1.0: 20,000 customers, 500,000 events, ...)")
        parser.add_argument("--skip-data", action="store_true", help="Only the workspace and its team, no data")

    def handle(self, *args, **options):
        if options["scale"] <= 0:
            raise CommandError("--scale must be greater than 0")
        if options["if_missing"] and Workspace.objects.filter(slug=DEMO_SLUG).exists():
            return
        workspace, created = demo_workspace_ensure()
        verb = "Created" if created else "Refreshed"
        self.stdout.write(self.style.SUCCESS(f"{verb} the demo workspace."))
        if not options["skip_data"]:
            world = World.scaled(options["scale"], time_zone=workspace.time_zone, currency=workspace.currency)
            self.stdout.write(f"Loading a year of demo data up to {world.end:%Y-%m-%d} (scale {options['scale']:g}) …")
            loads = demo_data_load(workspace=workspace, world=world, progress=self._progress)
            seconds = sum(load.seconds for load in loads)
            self.stdout.write(f"Demo data loaded: {sum(load.rows for load in loads):,} rows in {seconds:.1f} s.")
            started = time.perf_counter()
            with tenant_context(workspace):
                surveys = demo_surveys_load(world=world)
            if surveys:
                self.stdout.write(f"Demo surveys: {surveys['invitations']:,} invitations, {surveys['responses']:,} "
                                  f"responses in {time.perf_counter() - started:.1f} s.")
            started = time.perf_counter()
            with tenant_context(workspace):
                matched = demo_themes_load()
            self.stdout.write(f"Demo themes: {matched:,} comments matched in {time.perf_counter() - started:.1f} s.")
            started = time.perf_counter()
            scored, written = demo_kpis_compute(workspace=workspace)
            self.stdout.write(f"Scored {scored:,} mentions' sentiment and computed {written:,} KPI snapshots "
                              f"in {time.perf_counter() - started:.1f} s.")
        self.stdout.write(f"Sign in at {workspace.url}/sign-in/ as {DEMO_EMAIL} / {DEMO_PASSWORD}")
        others = ", ".join(f"{email} ({role.label.lower()})" for email, _, role in DEMO_TEAM)
        self.stdout.write(f"Also: {others}, same password.")

    def _progress(self, load: DatasetLoad) -> None:
        self.stdout.write(f"  {load.dataset}: {load.rows:,} rows ({load.created:,} new, {load.updated:,} updated, "
                          f"{load.unchanged:,} unchanged, {load.removed:,} removed) in {load.seconds:.1f} s")
