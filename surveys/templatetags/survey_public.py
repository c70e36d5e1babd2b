"""Rendering a survey's questions for customers (the public pages and the authoring preview).

The form fragment (``surveys/public/_form.html``) is included by the preview with only
``{survey, questions, branding, answers: {}, preview: True}``, so what a question needs to
be drawn (its points, which one is checked, its error) is worked out here from those, not
by the views."""
import re

from django import template

from surveys.models import QuestionKind

register = template.Library()

DEFAULT_BRAND = "#4f46e5"
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def _as_list(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


@register.simple_tag
def survey_fields(questions, answers=None, errors=None) -> list[dict]:
    """One dict per question: its inputs (value, label, checked), the current text, the
    error shown next to it, and the ids its ``aria-describedby`` points to."""
    answers = answers or {}
    errors = errors or {}
    fields = []
    for question in questions:
        key, kind = question.key, question.kind
        current = _as_list(answers.get(key))
        error = (errors.get(key) or [""])[0]
        field = {"key": key, "kind": kind, "text": question.text, "help_text": question.help_text,
                 "required": question.required, "error": error, "text_value": "", "options": [],
                 "low": "", "high": "", "scale": False, "input_type": "radio"}
        if kind in (QuestionKind.NPS, QuestionKind.CSAT):
            low, high = question.score_range
            ends = list(question.choices or []) + ["", ""]
            field.update(scale=True, low=ends[0], high=ends[1], low_value=low, high_value=high)
            points = range(low, high + 1)
            field["options"] = [{"value": str(n), "label": str(n), "checked": str(n) in current,
                                 "hint": ends[0] if n == low else ends[1] if n == high else ""} for n in points]
        elif kind == QuestionKind.RATING:
            field["options"] = [{"value": str(n), "label": label, "checked": str(n) in current, "hint": ""}
                                for n, label in enumerate(question.choices or [], start=1)]
        elif kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            field["input_type"] = "checkbox" if kind == QuestionKind.MULTIPLE else "radio"
            field["options"] = [{"value": choice, "label": choice, "checked": choice in current, "hint": ""}
                                for choice in question.choices or []]
        else:
            field["text_value"] = current[0] if current else ""
        for n, option in enumerate(field["options"]):
            option["id"] = f"{key}-{n}"
        described = [f"{key}-help"] if question.help_text or kind == QuestionKind.MULTIPLE else []
        # The scale's end labels are read with the first and last points (visually
        # hidden there), not repeated for every point.
        if error:
            described.append(f"{key}-error")
        field["described_by"] = " ".join(described)
        fields.append(field)
    return fields


@register.filter
def brand_style(branding) -> str:
    """CSS custom properties for the workspace's colour, and a text colour readable on it
    (WCAG relative luminance: white on dark colours, near-black on light ones)."""
    color = getattr(branding, "brand_color", "") or DEFAULT_BRAND
    if not HEX_COLOR.fullmatch(color):
        color = DEFAULT_BRAND  # the style attribute only ever gets a plain hex colour

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # Contrast with white is (1.05)/(L+0.05); with #111 about (L+0.05)/0.056: pick the larger.
    text = "#ffffff" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.0561 else "#111111"
    return f"--brand: {color}; --brand-text: {text};"


@register.filter
def logo_name(branding) -> str:
    """The logo's file name as ``surveys:logo`` takes it (the upload folder left out)."""
    name = getattr(getattr(branding, "logo", None), "name", "") or ""
    return name.rsplit("/", 1)[-1]
