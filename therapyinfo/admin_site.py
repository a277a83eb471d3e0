"""The admin site as a clinical team sees it.

Its home page groups models the way editors think of them rather than by
Python package: the pages patients read first, then the records several
pages share, then accounts and lockouts. Rows that only make sense inside
their page (comparison rows and cells, a therapy's side effects, article
sections) are edited inline there and are not listed on their own; their
own admin pages still work for links and search.

`EditorialAdminConfig` replaces "django.contrib.admin" in INSTALLED_APPS, so
`admin.site` (and every `@admin.register`) is this site.

The site also serves the Markdown preview that the editor widget asks for
(therapyinfo/admin_forms.py): staff only, POST with the CSRF token, rendered
by the same function as the public pages.
"""

import re

from django.conf import settings
from django.contrib.admin import apps as admin_apps
from django.contrib.admin import sites
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

# (group name, CSS/anchor label, models as "app_label.model_name", in the order shown)
GROUPS = [
    # Every change an editor saved, and the review screen for the pending ones.
    ("Review", "review", ["therapyinfo.revision"]),
    (
        "Pages",
        "pages",
        ["therapyinfo.therapy", "therapyinfo.article", "therapyinfo.comparison"],
    ),
    (
        "Shared",
        "shared",
        [
            "therapyinfo.sideeffect",
            "therapyinfo.mechanism",
            "therapyinfo.glossaryterm",
            "therapyinfo.source",
            "therapyinfo.crisisresource",
        ],
    ),
    (
        "Site administration",
        "site-administration",
        [
            "auth.user",
            "auth.group",
            "axes.accessattempt",
            "axes.accessfailurelog",
            "axes.accesslog",
        ],
    ),
]
# Edited inline on their page; never listed on their own.
INLINE_ONLY = {
    "therapyinfo.comparisonrow",
    "therapyinfo.comparisoncell",
    "therapyinfo.therapysideeffect",
    "therapyinfo.outcome",
    "therapyinfo.articlesection",
}
# The guides in docs/ that editors and reviewers read, shown in the admin (linked
# from its home page) so the rules they work by are one click away.
GUIDES = {
    "editing": "editing.md",
    "content-rules": "content-rules.md",
    "side-effects-and-grades": "side-effects-and-grades.md",
    "decision-aid": "decision-aid.md",
}
GUIDE_LINK = re.compile(r'href="([a-z-]+)\.md(#[^"]*)?"')
# Preview requests larger than this are refused: no page text comes near it.
PREVIEW_MAX_CHARS = 100_000


def model_key(app, model):
    return f"{app['app_label']}.{model['object_name'].lower()}"


class EditorialAdminSite(sites.AdminSite):
    site_header = "Therapy Info editorial"
    site_title = "Therapy Info editorial"
    index_title = "Editorial home"
    index_template = "admin/editorial_index.html"

    def get_app_list(self, request, app_label=None):
        if app_label is not None:
            # An app's own index page: the usual list, without the inline-only rows.
            app_list = super().get_app_list(request, app_label)
            for app in app_list:
                app["models"] = [m for m in app["models"] if model_key(app, m) not in INLINE_ONLY]
            return [app for app in app_list if app["models"]]

        apps = self._build_app_dict(request)
        models = {
            model_key(app, model): (app, model) for app in apps.values() for model in app["models"]
        }
        grouped = []
        placed = set(INLINE_ONLY)
        for name, label, keys in GROUPS:
            members = [models[key] for key in keys if key in models]
            placed.update(keys)
            if members:
                grouped.append(
                    {
                        "name": name,
                        "app_label": label,
                        "app_url": members[0][0]["app_url"],
                        "has_module_perms": True,
                        "models": [model for _app, model in members],
                    }
                )
        # Anything registered later that no group names still shows, by its app.
        for app in sorted(apps.values(), key=lambda a: a["name"].lower()):
            rest = [m for m in app["models"] if model_key(app, m) not in placed]
            if rest:
                grouped.append({**app, "models": sorted(rest, key=lambda m: m["name"])})
        return grouped

    def get_urls(self):
        return [
            path(
                "markdown-preview/",
                self.admin_view(self.markdown_preview),
                name="markdown_preview",
            ),
            path("guide/<slug:name>/", self.admin_view(self.guide), name="guide"),
            *super().get_urls(),
        ]

    def guide(self, request, name):
        """One of the editors' guides in docs/, rendered like page text."""
        if name not in GUIDES:
            raise Http404("No such guide.")
        from .markup import render_markdown

        text = (settings.BASE_DIR / "docs" / GUIDES[name]).read_text()
        title, _, body = text.partition("\n")
        # Section by section: each stays within the renderer's size bound.
        sections = re.split(r"\n(?=## )", body)
        html = "".join(str(render_markdown(section, top=2)) for section in sections)
        # Links between the guides stay inside the admin; others point at docs/.
        html = GUIDE_LINK.sub(
            lambda m: (
                f'href="{reverse("admin:guide", args=[m[1]])}{m[2] or ""}"'
                if m[1] in GUIDES
                else m[0]
            ),
            html,
        )
        context = {**self.each_context(request), "title": title.lstrip("# "), "guide": html}
        return TemplateResponse(request, "admin/therapyinfo/guide.html", context)

    def markdown_preview(self, request):
        """The Markdown in `text` as a patient would see it, sanitised, plus what
        sanitising removed. `admin_view` has already required a staff login
        and checked the CSRF token."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        from .admin_forms import sanitised_preview

        text = request.POST.get("text", "")[:PREVIEW_MAX_CHARS]
        html, removed = sanitised_preview(text)
        return JsonResponse({"html": html, "removed": removed})


class EditorialAdminConfig(admin_apps.AdminConfig):
    default_site = "therapyinfo.admin_site.EditorialAdminSite"


def preview_url():
    return reverse("admin:markdown_preview")
