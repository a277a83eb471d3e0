"""Helpers shared by test modules (STYLE.md: never import one test module from another)."""

import re

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from therapyinfo.revisions import Revision


def history_url(obj):
    return reverse(f"admin:therapyinfo_{obj._meta.model_name}_history", args=[obj.pk])


def versions(obj, **filters):
    """`obj`'s own revisions, newest first."""
    own = ContentType.objects.get_for_model(obj)
    return Revision.objects.filter(content_type=own, object_id=obj.pk, **filters).order_by("-pk")


def restore(client, obj, version):
    """Press "Restore this version" for `version` on `obj`'s History page, posting the
    form as the page has it (its version field included). Where the page shows no
    such form (changes await review), post what it would have carried."""
    page = client.get(history_url(obj))
    assert page.status_code == 200
    action = reverse(f"admin:therapyinfo_{obj._meta.model_name}_restore", args=[obj.pk, version.pk])
    html = page.content.decode()
    form = re.search(rf'<form method="post" action="{re.escape(action)}">(.*?)</form>', html, re.S)
    if form is not None:
        token = re.search(r'name="edit_token" value="([^"]*)"', form.group(1)).group(1)
    else:
        token = page.context["edit_token"]
    return client.post(action, {"edit_token": token})
