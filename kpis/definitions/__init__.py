"""Every KPI definition module; importing this package registers them all, then orders
the registry as api.md lists the KPI keys (the dashboard's and the docs' order)."""
from kpis.definitions import conversations, customers, product, revenue, social, surveys  # noqa: F401
from kpis.registry import KPIS, contract_order

_ordered = sorted(KPIS.items(), key=lambda item: contract_order(item[0]))
KPIS.clear()
KPIS.update(_ordered)
