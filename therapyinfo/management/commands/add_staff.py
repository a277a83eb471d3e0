"""Create a staff account in one editorial role.

A superuser bypasses the roles (an editor's change would publish at once), so
trying the workflow needs an editor and a reviewer made this way. The
password is asked for twice, or read from $DJANGO_STAFF_PASSWORD when set
(for scripts; the environment keeps it out of the shell history).
"""

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# The groups made by migrations/0003_editorial_groups.py.
ROLES = {"editor": "Content editor", "reviewer": "Clinical reviewer"}
PASSWORD_VARIABLE = "DJANGO_STAFF_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a staff account that is a content editor or a clinical reviewer. "
        f"The password is prompted for, or read from ${PASSWORD_VARIABLE}."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The name the person signs in with.")
        parser.add_argument(
            "--role",
            required=True,
            choices=sorted(ROLES),
            help="editor: proposes changes; reviewer: also publishes them.",
        )
        parser.add_argument("--email", default="", help="Optional email address.")

    def handle(self, *args, username, role, email, **options):
        User = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError("The user name is empty.")
        if User.objects.filter(username=username).exists():
            raise CommandError(
                f"A user named {username!r} already exists; change their groups in the admin."
            )
        try:
            group = Group.objects.get(name=ROLES[role])
        except Group.DoesNotExist:
            raise CommandError(
                f"The group {ROLES[role]!r} does not exist; run `manage.py migrate` first."
            ) from None
        password = self.read_password()
        user = User(username=username, email=email, is_staff=True)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        user.set_password(password)
        with transaction.atomic():
            user.save()
            user.groups.add(group)
        self.stdout.write(
            self.style.SUCCESS(f"Created {role} {username!r} (group {group.name!r}).")
        )

    def read_password(self):
        password = os.environ.get(PASSWORD_VARIABLE)
        if password is not None:
            if not password:
                raise CommandError(f"${PASSWORD_VARIABLE} is set but empty.")
            return password
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError(
                f"No password given; type one, or set ${PASSWORD_VARIABLE}."
            ) from None
        if password != again:
            raise CommandError("The two passwords differ; nothing was created.")
        if not password:
            raise CommandError("The password is empty; nothing was created.")
        return password
