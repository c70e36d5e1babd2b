"""The data browser's GET forms. The filter form is generated from the dataset's field
definitions, and checks filter values with the fields' own parsing rules (``Field.parse``,
as ``records_list`` does for the API), so a bad value gets the same message as in an import."""
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from ingestion.datasets import DATASETS, TIME_FIELDS, Dataset
from ingestion.fields import FieldError
from ingestion.models import ImportJob
from ingestion.selectors.records import BROWSE_FILTERS, SEARCH_FIELDS
from tenants.inputs import CalendarDateField

ANY = ("", "any")
BOOLEAN_CHOICES = [ANY, ("true", "yes"), ("false", "no")]


class RecordFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=255,
                        widget=forms.TextInput(attrs={"type": "search", "spellcheck": "false"}))

    def __init__(self, data, *, dataset: Dataset, options: dict[str, list | None], time_zone: str):
        super().__init__(data)
        self.dataset = dataset
        self.tz = ZoneInfo(time_zone)
        searched = SEARCH_FIELDS[dataset.key]
        self.fields["q"].help_text = "IDs match from the start, as typed; other fields anywhere, ignoring case."
        self.fields["search_in"] = forms.ChoiceField(label="Search in", required=False,
                                                     choices=[("", "all fields"), *((name, name) for name in searched)])
        time_name = TIME_FIELDS[dataset.key]
        self.monthly = dataset.by_name[time_name].kind == "month"
        for name, label in (("from", "From"), ("to", "To")):
            self.fields[name] = self._period_field(label)
        self.fields["from"].help_text = f"On {time_name}{'' if self.monthly else f', in {time_zone}'}."
        for name in BROWSE_FILTERS[dataset.key]:
            current = (data or {}).get(name, "")
            if options.get(name) == [] and not current:
                continue  # nothing stored to choose from: a select with only "any" is noise
            self.fields[name] = self._filter_field(dataset.by_name[name], options.get(name), current)

    def _period_field(self, label: str) -> CalendarDateField:
        if self.monthly:
            return CalendarDateField(label=label, required=False, input_formats=["%Y-%m"],
                                   error_messages={"invalid": "Enter a month as YYYY-MM."},
                                   widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
        return CalendarDateField(label=label, required=False, input_formats=["%Y-%m-%d"],
                               error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    @staticmethod
    def _filter_field(field, options: list | None, current: str) -> forms.Field:
        if field.kind == "boolean":
            return forms.ChoiceField(label=field.name, required=False, choices=BOOLEAN_CHOICES)
        if field.kind == "choice":
            return forms.ChoiceField(label=field.name, required=False, choices=[ANY, *((c, c) for c in field.choices)])
        if options is None:  # too many values for a select
            return forms.CharField(label=field.name, required=False, widget=forms.TextInput(attrs={"placeholder": "exact value"}))
        values = [str(value) for value in options]
        if current and current not in values:  # e.g. a bookmarked value no row has any more: keep it visible
            values.append(current)
        # A plain text field shown as a select: clean() checks the value with the field's
        # definition, so `?csat_score=high` says it is not a whole number.
        return forms.CharField(label=field.name, required=False,
                               widget=forms.Select(choices=[ANY, *((value, value) for value in values)]))

    def clean(self):
        data = super().clean()
        for name in BROWSE_FILTERS[self.dataset.key]:
            if data.get(name):
                try:
                    self.dataset.by_name[name].parse(data[name], self.tz)
                except FieldError as exc:
                    self.add_error(name, str(exc))
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            self.add_error("to", "The end of the range is before its start.")
        return data

    def filters(self) -> dict[str, str]:
        """The valid form as ``records_list`` filters. The range covers whole days (or months)
        in the workspace time zone: ``records_list`` reads a date without a time as that zone's
        midnight, and the day after ``to`` is the exclusive end."""
        data = self.cleaned_data
        filters = {name: data[name] for name in BROWSE_FILTERS[self.dataset.key] if data.get(name)}
        if data.get("from"):
            filters["since"] = self._bound(data["from"])
        if data.get("to"):
            filters["until"] = self._bound(self._next(data["to"]))
        return filters

    def _next(self, day: date) -> date:
        if self.monthly:
            return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return day + timedelta(days=1)

    def _bound(self, day: date) -> str:
        return day.strftime("%Y-%m") if self.monthly else day.isoformat()

    @property
    def is_filtered(self) -> bool:
        return bool(self.filters() or self.cleaned_data.get("q"))


class PageForm(forms.Form):
    """The keyset cursor of the page links (see ``records_page``)."""

    broken = "This page link is not valid; start again from the newest rows."
    after = forms.IntegerField(required=False, min_value=1, error_messages={"invalid": broken, "min_value": broken})
    before = forms.IntegerField(required=False, min_value=1, error_messages={"invalid": broken, "min_value": broken})


class ImportUploadForm(forms.Form):
    dataset = forms.ChoiceField(choices=[(d.key, d.label) for d in DATASETS.values()])
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}),
        allow_empty_file=True,  # an empty file gets the import's own message
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read when the form is made, so the limit shown is the one in force.
        self.fields["file"].help_text = (
            "UTF-8 (with or without BOM), UTF-16 or Windows-1252; comma, semicolon, tab or pipe separated; "
            f"a header row first; up to {filesizeformat(settings.IMPORT_MAX_BYTES)}.")


class ImportMappingForm(forms.Form):
    """One choice per column of the file: the field it feeds, or "keep in extra"."""

    mode = forms.ChoiceField(choices=ImportJob.Mode.choices, widget=forms.RadioSelect, initial=ImportJob.Mode.VALID_ROWS,
                             label="If some rows are invalid")

    def __init__(self, *args, job: ImportJob, **kwargs):
        super().__init__(*args, **kwargs)
        dataset = DATASETS[job.dataset]
        choices = [("", "— keep in extra —")] + [
            (f.name, f"{f.name}{' (required)' if f.required else ''}") for f in dataset.fields]
        self.headers = job.headers
        for index, (header, suggestion) in enumerate(zip(job.headers, job.mapping, strict=True)):
            self.fields[f"col_{index}"] = forms.ChoiceField(choices=choices, required=False, initial=suggestion, label=header)
        self.initial.setdefault("mode", job.mode)

    @property
    def column_fields(self):
        return [self[f"col_{i}"] for i in range(len(self.headers))]

    def mapping(self) -> list[str]:
        """The chosen mapping (after is_valid), or the suggested one for an unbound form."""
        if self.is_bound:
            return [self.cleaned_data.get(f"col_{i}", "") for i in range(len(self.headers))]
        return [self.fields[f"col_{i}"].initial for i in range(len(self.headers))]


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label="Find a customer", required=False, max_length=255,
                        help_text="External id (exact or its start), email, or name (case and accents ignored).",
                        widget=forms.TextInput(attrs={"type": "search", "spellcheck": "false", "autocomplete": "off"}))


class CustomerPageForm(forms.Form):
    """The conversations page of a customer's page: a bad number shows the first page."""

    conversations = forms.IntegerField(required=False, min_value=1, max_value=100_000)
