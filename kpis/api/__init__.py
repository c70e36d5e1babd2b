"""The KPI app's API, by workflow: ``series`` (the KPIs, their values, recomputes; api.md)
and ``alerts`` (alert rules and the alerts they fired)."""
