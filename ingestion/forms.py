from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from ingestion.datasets import DATASETS
from ingestion.models import ImportJob


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
