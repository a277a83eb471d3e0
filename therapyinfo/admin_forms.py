"""Admin form pieces that make editing comfortable at 1280 px.

- `TimelineUnitsMixin`: onset and duration are each typed as two numbers and
  one unit the editor picks (hours, days or weeks). The model keeps storing
  whole hours (onset) and whole days (duration); a value that is not a whole
  number of them is refused with a message that says so.
- `MarkdownPreview`: the text area of a Markdown field with a preview beside
  it. The preview is rendered on the server by the same function as the
  public pages (`render_markdown`, sanitised by nh3); without JavaScript it
  shows the saved text, with it (static/admin-extra/markdown-preview.js) it
  follows the typing.
- `EditorialAdminMixin`: puts that widget on every Markdown field and, after
  a save, tells the editor in an admin message when sanitising will drop
  something they typed (a <script>, an onerror=, a javascript: link ...).
"""

from collections import Counter
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser

from django import forms
from django.contrib import messages
from django.contrib.admin.widgets import AdminTextareaWidget
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from .markup import markdown_to_html, render_markdown


def markdown_fields(model):
    """The fields of `model` that hold Markdown (its `markdown_fields`, the list
    its save() renders); other text is shown escaped, as typed."""
    return getattr(model, "markdown_fields", ())


# --- Markdown preview and what sanitising removes ---------------------------


class _StartTags(HTMLParser):
    """The start tags, attributes and comments in a piece of HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = Counter()
        self.attributes = Counter()
        self.comments = 0

    def handle_starttag(self, tag, attrs):
        # Headings are renumbered to fit the page, which is not a removal.
        tag = "h" if tag in {"h1", "h2", "h3", "h4", "h5", "h6"} else tag
        self.tags[tag] += 1
        for name, value in attrs:
            if tag in {"th", "td"} and name == "style":
                continue  # Markdown's own column alignment, not something typed
            shown = f'{name}="{value}"' if name in {"href", "src"} and value else f"{name}="
            self.attributes[shown] += 1

    def handle_comment(self, data):
        self.comments += 1


def _start_tags(html):
    parser = _StartTags()
    parser.feed(html)
    parser.close()
    return parser


def removed_by_sanitising(text):
    """What the editor typed that the public page will not show, in words an
    editor recognises: "<script>", "onerror=", 'href="javascript:..."'."""
    if not text:
        return []
    # The same Markdown the page renders, before nh3 has cleaned it.
    before = _start_tags(markdown_to_html(text))
    after = _start_tags(str(render_markdown(text)))
    removed = [f"<{tag}>" for tag in sorted((before.tags - after.tags).keys())]
    removed += sorted((before.attributes - after.attributes).keys())
    if before.comments:
        removed.append("<!-- comment -->")
    return [item if len(item) <= 60 else item[:57] + "..." for item in removed]


def sanitised_preview(text):
    """The preview's HTML and the list of what sanitising removed."""
    return str(render_markdown(text)), removed_by_sanitising(text)


class MarkdownPreview(AdminTextareaWidget):
    """A Markdown text area with a preview of the page beside it."""

    class Media:
        css = {"all": ["admin-extra/editor.css"]}
        js = ["admin-extra/markdown-preview.js"]

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {**(attrs or {}), "data-preview-url": reverse("admin:markdown_preview")}
        textarea = super().render(name, value, attrs, renderer)
        html, removed = sanitised_preview(value or "")
        preview_id = f"{(attrs or {}).get('id') or name}-preview"
        return format_html(
            '<div class="md-editor">{}'
            '<section class="md-preview" id="{}" aria-live="polite" aria-label="Preview">'
            '<p class="md-preview__label">Preview <span class="md-preview__status">'
            "(as saved)</span></p>"
            '<div class="md-preview__body">{}</div>'
            '<p class="md-preview__removed"{}>Not shown on the site: '
            '<span class="md-preview__removed-list">{}</span></p>'
            "</section></div>",
            textarea,
            preview_id,
            html,  # sanitised by render_markdown
            "" if removed else " hidden",
            ", ".join(removed),
        )


def removal_notices(form):
    """One sentence per Markdown field of `form` whose text loses something."""
    model = form._meta.model
    notices = []
    for name in sorted(markdown_fields(model)):
        if name not in getattr(form, "cleaned_data", {}):
            continue
        removed = removed_by_sanitising(form.cleaned_data[name])
        if removed:
            label = form.fields[name].label or name
            where = f"{model._meta.verbose_name} “{form.instance}”"
            notices.append(
                f"{label} of {where}: the site removes {', '.join(removed)} when it shows "
                "this text, so readers will not see them. Your text was saved as typed."
            )
    return notices


class MarkdownPreviewMixin:
    """For a ModelAdmin or an inline: the preview widget on Markdown fields."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in markdown_fields(db_field.model):
            kwargs.setdefault("widget", MarkdownPreview)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class EditorialAdminMixin(MarkdownPreviewMixin):
    """For a ModelAdmin: previews, and a warning after a save whose Markdown
    (its own or an inline row's) loses something to sanitising. The admin's
    save_related calls `warn_about_sanitising`, whether the save went live or
    waits for review."""

    def warn_about_sanitising(self, request, form, formsets):
        forms_saved = [form] + [
            inline_form
            for formset in formsets
            for inline_form in formset.forms
            if not getattr(inline_form, "cleaned_data", {}).get("DELETE")
        ]
        for saved in forms_saved:
            for notice in removal_notices(saved):
                self.message_user(request, notice, messages.WARNING)


# --- Onset and duration in a unit the editor picks --------------------------

UNIT_HOURS = {"hours": 1, "days": 24, "weeks": 24 * 7}
UNIT_CHOICES = [("hours", "hours"), ("days", "days"), ("weeks", "weeks")]
# form prefix: (stored fields, hours per stored unit, stored unit's name, default unit)
RANGES = {
    "onset": (("onset_min_hours", "onset_max_hours"), 1, "hours", "hours"),
    "duration": (("duration_min_days", "duration_max_days"), 24, "days", "days"),
}


def unit_for(values, stored_hours, default):
    """The largest unit in which every stored value is a whole number."""
    present = [value for value in values if value is not None]
    if not present:
        return default
    for unit in ("weeks", "days", "hours"):
        if all(value * stored_hours % UNIT_HOURS[unit] == 0 for value in present):
            return unit
    return "hours"


def number_field(label):
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "any", "class": "vUnitNumber"}),
    )


def unit_field(label, help_text):
    return forms.ChoiceField(label=label, choices=UNIT_CHOICES, help_text=help_text)


class TimelineUnitsMixin(forms.Form):
    """Declares the unit fields of a Therapy form; mix in before the ModelForm.

    The admin's fieldsets name `onset_min`, `onset_max`, `onset_unit` and the
    three `duration_*` fields instead of the model's hour and day fields.
    """

    onset_min = number_field("Relief starts: soonest")
    onset_max = number_field("latest")
    onset_unit = unit_field(
        "unit",
        "Time after a dose. Leave both numbers empty when the evidence does not say.",
    )
    duration_min = number_field("Relief lasts: shortest")
    duration_max = number_field("longest")
    duration_unit = unit_field(
        "unit",
        "Time relief usually lasts. Leave both numbers empty when the evidence does not say.",
    )

    # Model errors about the stored fields are shown on the fields the editor sees.
    STORED_TO_FORM = {
        "onset_min_hours": "onset_min",
        "onset_max_hours": "onset_max",
        "duration_min_days": "duration_min",
        "duration_max_days": "duration_max",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for prefix, (stored, stored_hours, _name, default) in RANGES.items():
            values = [getattr(self.instance, field) for field in stored]
            unit = unit_for(values, stored_hours, default)
            self.initial.setdefault(f"{prefix}_unit", unit)
            for end, value in zip(("min", "max"), values, strict=True):
                if value is not None:
                    self.initial.setdefault(
                        f"{prefix}_{end}", value * stored_hours // UNIT_HOURS[unit]
                    )

    def clean(self):
        cleaned = super().clean()
        for prefix, (stored, stored_hours, stored_name, _default) in RANGES.items():
            unit = cleaned.get(f"{prefix}_unit")
            if unit not in UNIT_HOURS:
                continue
            for end, field in zip(("min", "max"), stored, strict=True):
                name = f"{prefix}_{end}"
                if name not in cleaned:
                    continue  # already has an error of its own
                value = cleaned[name]
                if value is None:
                    setattr(self.instance, field, None)
                    continue
                try:
                    amount = value * UNIT_HOURS[unit] / Decimal(stored_hours)
                except InvalidOperation:
                    amount = None
                if amount is None or amount != amount.to_integral_value():
                    self.add_error(
                        name,
                        f"{value.normalize():f} {unit} is not a whole number of {stored_name}, "
                        f"which is how the site stores it. Pick a smaller unit or round it.",
                    )
                    continue
                setattr(self.instance, field, int(amount))
        return cleaned

    def _update_errors(self, errors):
        if hasattr(errors, "error_dict"):
            errors = ValidationError(
                {
                    self.STORED_TO_FORM.get(field, field): messages_
                    for field, messages_ in errors.error_dict.items()
                }
            )
        super()._update_errors(errors)
