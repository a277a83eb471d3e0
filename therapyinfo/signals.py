"""Bump the content version whenever any content is saved or deleted.

Connected in `TherapyinfoConfig.ready()`. The handlers run inside the
transaction that saves the content (admin, `load_content` and `loaddata` all
wrap their writes in one), so the new version commits with the new data and
every process's cached values move on together (see `cache.py`).

Raw saves from `loaddata` are bumped too: loading a fixture changes pages.
`QuerySet.update()`, `bulk_create()` and raw SQL send no signals: after one
that changes Markdown, run `manage.py render_content` (it renders it again and
bumps the version); after any other, call `cache.bump_content_version()`.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

# quiet: previews (preview.py) apply a revision inside it.
from .cache import bump_content_version, is_quiet, quiet  # noqa: F401

# Models that record editorial work but change nothing the public sees: a
# pending revision must leave every cached page as it is.
NOT_CONTENT = {"contentversion", "revision", "contentload"}

M2M_WRITES = {"post_add", "post_remove", "post_clear"}


def is_content(model):
    """Every model of this app except the version itself (and its history, if any)."""
    meta = model._meta
    return (
        meta.app_label == "therapyinfo"
        and meta.model_name not in NOT_CONTENT
        and not meta.model_name.startswith("historical")
    )


def content_saved_or_deleted(sender, **kwargs):
    if is_content(sender) and not is_quiet():
        bump_content_version()


def content_relation_changed(sender, action, **kwargs):
    if action in M2M_WRITES and is_content(sender) and not is_quiet():
        bump_content_version()


def connect():
    post_save.connect(content_saved_or_deleted, dispatch_uid="therapyinfo-content-saved")
    post_delete.connect(content_saved_or_deleted, dispatch_uid="therapyinfo-content-deleted")
    m2m_changed.connect(content_relation_changed, dispatch_uid="therapyinfo-relation-changed")
