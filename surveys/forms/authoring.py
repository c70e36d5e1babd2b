"""Survey authoring forms. They only parse what was typed; the rules (question counts,
options, locking, settings bounds) live in ``surveys.services.authoring`` so the pages and
the API answer with the same messages."""
from django import forms

from surveys.catalog import TEMPLATES
from surveys.models import QuestionKind
from surveys.services.authoring import MAX_QUESTIONS
from surveys.services.survey_settings import SETTING_BOUNDS


class NewSurveyForm(forms.Form):
    template = forms.ChoiceField(label="Start from", choices=[(t.key, t.title) for t in TEMPLATES.values()],
                                 widget=forms.RadioSelect, initial="nps")
    name = forms.CharField(label="Survey name", max_length=200, required=False,
                           help_text="Leave empty for the template's name; you can rename it later.")


class SurveyTextsForm(forms.Form):
    name = forms.CharField(label="Survey name", max_length=200)
    intro = forms.CharField(label="Intro", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="Shown above the questions.")
    thank_you = forms.CharField(label="Thank-you text", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                help_text="Shown once the survey is submitted.")
    email_subject = forms.CharField(label="Email subject", max_length=200, required=False)
    email_intro = forms.CharField(label="Email intro", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="The email's first paragraph, above the score buttons or the link.")


class ChoicesField(forms.CharField):
    """Options or labels typed one per line; blank lines are dropped."""

    widget = forms.Textarea

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [line.strip() for line in (value or "").splitlines() if line.strip()]

    def has_changed(self, initial, data):
        # A blank new row must count as unchanged: compare lists, not '' with [].
        return self.to_python(initial) != self.to_python(data)


class QuestionForm(forms.Form):
    key = forms.CharField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label="Kind", choices=QuestionKind.choices, initial=QuestionKind.TEXT)
    # No max_length here: the service says how long the text is and what the limit is.
    text = forms.CharField(label="Question", required=False, widget=forms.TextInput(attrs={"maxlength": 500}))
    help_text = forms.CharField(label="Help text (optional)", required=False,
                                widget=forms.TextInput(attrs={"maxlength": 300}))
    choices = ChoicesField(
        label="Options", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line. Rating: one label per point, the worst first. NPS/CSAT: the labels of the "
                  "lowest and highest score (empty: the defaults).")
    required = forms.BooleanField(label="Required", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Show every option without scrolling (up to a dozen lines).
        lines = len(self.initial.get("choices") or [])
        self.fields["choices"].widget.attrs["rows"] = min(max(lines + 1, 3), 12)

    def spec(self) -> dict:
        data = self.cleaned_data
        return {"key": data.get("key") or "", "kind": data.get("kind") or "", "text": data.get("text") or "",
                "help_text": data.get("help_text") or "", "required": bool(data.get("required")),
                "choices": data.get("choices") or []}


class BaseQuestionFormSet(forms.BaseFormSet):
    def specs(self) -> list[dict]:
        """The questions kept, in the order asked for (a blank new row is ignored)."""
        return [form.spec() for form in self.ordered_forms if not self._should_delete_form(form)]

    def add_service_errors(self, by_question: dict[int, dict[str, list[str]]]) -> None:
        """Show the service's per-question refusals on the rows they came from."""
        forms_in_order = [form for form in self.ordered_forms if not self._should_delete_form(form)]
        for index, fields in by_question.items():
            form = forms_in_order[index]
            for field, messages in fields.items():
                form.add_error(field if field in form.fields else None, messages)


QuestionFormSet = forms.formset_factory(QuestionForm, formset=BaseQuestionFormSet, extra=0, can_order=True,
                                        can_delete=True, max_num=MAX_QUESTIONS + 5, absolute_max=50)


def question_formset(*, data=None, questions=None, add: int = 0) -> BaseQuestionFormSet:
    initial = [{"key": q.key, "kind": q.kind, "text": q.text, "help_text": q.help_text, "required": q.required,
                "choices": list(q.choices), "ORDER": q.position} for q in (questions or [])]
    formset = QuestionFormSet(data, initial=initial, prefix="questions")
    formset.extra = add
    return formset


class ColorInput(forms.TextInput):
    input_type = "color"


class SurveySettingsForm(forms.Form):
    brand_color = forms.CharField(label="Brand colour", required=False, widget=ColorInput)
    brand_color_text = forms.CharField(
        label="Brand colour (hex)", required=False, max_length=7,
        widget=forms.TextInput(attrs={"pattern": "#[0-9a-fA-F]{6}", "spellcheck": "false", "autocapitalize": "none"}),
        help_text="Buttons and accents of survey pages and emails, as #rrggbb.")
    logo = forms.FileField(label="Logo", required=False,
                           widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
                           help_text="PNG, JPEG, GIF or WebP, at most 1 MB. Shown at the top of survey pages and emails.")
    logo_remove = forms.BooleanField(label="Remove the logo", required=False)
    sender_name = forms.CharField(label="Sender name", max_length=120, required=False,
                                  help_text="The name survey emails come from (default: the workspace's name).")
    reply_to = forms.EmailField(label="Reply-to address", required=False,
                                help_text="Where customers' replies to survey emails go (optional).")
    throttle_days = forms.IntegerField(
        label="Survey a customer at most once every (days)",
        help_text="Nobody gets a survey email if they got one, for any survey, within this many days. 0: no limit.")
    link_expiry_days = forms.IntegerField(label="Links expire after (days)",
                                          help_text="A survey email's link takes answers (and edits) for this long.")
    csat_trigger_survey = forms.ModelChoiceField(
        label="Survey sent after a resolved conversation", queryset=None, required=False,
        empty_label="Off: no survey after resolved conversations",
        help_text="A CSAT survey, or a custom survey with a CSAT question. Only conversations resolved "
                  "after it is switched on are surveyed.")
    csat_trigger_delay_minutes = forms.IntegerField(
        label="Send it after (minutes)", help_text="How long after the conversation is resolved.")

    def __init__(self, *args, settings, trigger_choices, **kwargs):
        initial = {"brand_color": settings.brand_color, "brand_color_text": settings.brand_color,
                   "sender_name": settings.sender_name, "reply_to": settings.reply_to,
                   "throttle_days": settings.throttle_days, "link_expiry_days": settings.link_expiry_days,
                   "csat_trigger_survey": settings.csat_trigger_survey_id,
                   "csat_trigger_delay_minutes": settings.csat_trigger_delay_minutes}
        super().__init__(*args, initial=initial, **kwargs)
        self.current_color = settings.brand_color
        self.fields["csat_trigger_survey"].queryset = trigger_choices
        for name, (low, high, _) in SETTING_BOUNDS.items():
            self.fields[name].widget.attrs.update({"min": low, "max": high})
        # The file input offers its own "clear" checkbox: the page has "Remove the logo".
        self.fields["logo"].widget = forms.FileInput(attrs=self.fields["logo"].widget.attrs)

    def clean(self):
        data = super().clean()
        # Two inputs for one colour (a picker, and its value as text): with scripts they stay
        # in step; without, whichever one was changed from the saved colour wins.
        text = (data.get("brand_color_text") or "").strip().lower()
        picked = (data.get("brand_color") or "").strip().lower()
        if text and text != self.current_color:
            data["brand_color"] = text
        else:
            data["brand_color"] = picked or text or self.current_color
        return data

    def changes(self) -> dict:
        data = self.cleaned_data
        changes = {name: data[name] for name in ("brand_color", "sender_name", "reply_to", "throttle_days",
                                                  "link_expiry_days", "csat_trigger_survey",
                                                  "csat_trigger_delay_minutes")}
        if data.get("logo"):
            changes["logo"] = data["logo"]
        elif data.get("logo_remove"):
            changes["logo_remove"] = True
        return changes

