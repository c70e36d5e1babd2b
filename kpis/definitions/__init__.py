"""Every KPI definition module; importing this package registers them all."""
from kpis.definitions import conversations, social, surveys  # noqa: F401
