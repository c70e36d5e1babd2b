from django import forms
from django.core.exceptions import ValidationError

from kpis.themes.models import Theme

MAX_PHRASES = 50


class ThemeForm(forms.Form):
    name = forms.CharField(max_length=80, label="Theme")
    phrases = forms.CharField(
        label="Phrases", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line or separated by commas. A comment carries the theme when it contains one of them as "
                  "whole words; case and accents are ignored (“refund” matches “Refund”, not “refunded”).")

    def __init__(self, *args, theme: Theme | None = None, **kwargs):
        self.theme = theme
        initial = {"name": theme.name, "phrases": "\n".join(theme.phrases)} if theme else None
        super().__init__(*args, initial=initial, **kwargs)

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        others = Theme.objects.filter(name__iexact=name)
        if self.theme is not None:
            others = others.exclude(pk=self.theme.pk)
        if others.exists():
            raise ValidationError(f"A theme named “{name}” exists already.")
        return name

    def clean_phrases(self):
        raw = self.cleaned_data["phrases"].replace(",", "\n").splitlines()
        phrases = [" ".join(part.split()) for part in raw if part.strip()]
        if not phrases:
            raise ValidationError("Give at least one phrase.")
        if len(phrases) > MAX_PHRASES:
            raise ValidationError(f"At most {MAX_PHRASES} phrases ({len(phrases)} given).")
        long = [phrase for phrase in phrases if len(phrase) > 100]
        if long:
            raise ValidationError(f"A phrase has at most 100 characters: “{long[0][:40]}…”.")
        if not any(ch.isalnum() for phrase in phrases for ch in phrase):
            raise ValidationError("A phrase needs at least one letter or digit.")
        return phrases
