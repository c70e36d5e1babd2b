"""The demo workspace's themes: what its generated comments talk about
(ingestion/generator.py NPS_COMMENTS and CSAT_COMMENTS), written as a team lead would."""
from kpis.themes.models import Theme
from kpis.themes.services import theme_save, themes_match

DEMO_THEMES = {
    "Pricing": ["expensive", "pricey", "price", "pricing"],
    "Bugs": ["bug", "bugs", "not fixed", "error"],
    "Support speed": ["took days", "took too long", "fast and friendly", "quick and helpful", "first reply"],
    "Performance": ["slow", "lags"],
    "Integrations": ["integration", "integrations"],
    "Reports": ["report", "reports", "reporting"],
    "Onboarding": ["onboarding"],
}


def demo_themes_load() -> int:
    """Write the demo themes (those missing) and match every comment: the matches made."""
    existing = set(Theme.objects.values_list("name", flat=True))
    for name, phrases in DEMO_THEMES.items():
        if name not in existing:
            theme_save(name=name, phrases=phrases, match_later=False)
    return themes_match(full=True)
