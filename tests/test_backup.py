"""The "Backup and restore" recipes of docs/operations.md work: the commands are
read from that page itself, run, and the restored database holds every record."""

import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.dateparse import parse_datetime

from tests.servers import postgresql_url

BASE_DIR = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def readme_commands():
    """Each shell command in the operations page's "Backup and restore" section, as argv."""
    readme = (BASE_DIR / "docs" / "operations.md").read_text()
    section = readme.split("## Backup and restore", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return [shlex.split(line) for line in lines if line.strip() and not line.startswith("#")]


def command(program):
    matches = [argv for argv in readme_commands() if program in argv[:2]]
    assert len(matches) == 1, f"docs/operations.md should have one {program} command"
    return matches[0]


def manage_args(verb):
    argv = next(argv for argv in readme_commands() if "manage.py" in argv[:2] and verb in argv[2:3])
    return argv[2:]


def run_manage(args, database_url):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SECRET_KEY": "backup-test-key",
            "DATABASE_URL": database_url,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


@pytest.mark.django_db
def test_the_portable_backup_restores_every_record(tmp_path, django_user_model):
    django_user_model.objects.create_user("backed-up-editor", "e@example.org", "pw-9x!long-one")
    backup = tmp_path / "backup.json"
    dump = [arg if arg != "backup.json" else str(backup) for arg in manage_args("dumpdata")]
    call_command(*dump)
    records = json.loads(backup.read_text())
    models = {record["model"] for record in records}
    assert {"therapyinfo.therapy", "therapyinfo.comparisoncell", "auth.user"} <= models
    assert not models & {"sessions.session", "contenttypes.contenttype", "axes.accessattempt"}

    # Restore into an empty database in another process, as docs/operations.md says.
    restored = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    run_manage(manage_args("migrate"), restored)
    load = [arg if arg != "backup.json" else str(backup) for arg in manage_args("loaddata")]
    run_manage(load, restored)

    # Dumped again, the restored database holds exactly the same records.
    again = tmp_path / "again.json"
    run_manage([arg if arg != str(backup) else str(again) for arg in dump], restored)
    assert normalised(json.loads(again.read_text())) == normalised(records)


def normalised(records):
    """Records with times compared as times: the dump keeps milliseconds, so
    12:00:57.000Z written back comes out as 12:00:57Z. The content version is
    left out: loading the backup is a content change, so it moves (and every
    cache keyed by it starts afresh)."""
    records = [r for r in records if r["model"] != "therapyinfo.contentversion"]
    for record in records:
        for name, value in record["fields"].items():
            if isinstance(value, str) and "T" in value and (moment := parse_datetime(value)):
                record["fields"][name] = moment
    return records


def test_pg_dump_and_pg_restore(transactional_db, tmp_path):
    source_url = postgresql_url()
    call_command("load_content", verbosity=0)
    db = settings.DATABASES["default"]
    target_name = f"test_restore_{uuid.uuid4().hex[:8]}"
    target_url = source_url.rsplit("/", 1)[0] + "/" + target_name
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"]}

    def run(argv, url):
        program = PG_BIN / argv[0]
        argv = [str(program) if program.exists() else argv[0], *argv[1:]]
        argv = [arg.replace("$DATABASE_URL", url) for arg in argv]
        argv = [arg.replace("therapyinfo.dump", str(tmp_path / "therapyinfo.dump")) for arg in argv]
        return subprocess.run(
            argv, env=env, capture_output=True, text=True, check=True, timeout=300
        )

    run(command("pg_dump"), source_url)
    psql = [str(PG_BIN / "psql"), source_url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c"]
    subprocess.run([*psql, f"CREATE DATABASE {target_name}"], env=env, check=True)
    try:
        run(command("pg_restore"), target_url)
        counts = "SELECT (SELECT count(*) FROM therapyinfo_therapy), " + (
            "(SELECT count(*) FROM therapyinfo_comparisoncell), "
            "(SELECT count(*) FROM therapyinfo_articlesection)"
        )

        def count(url):
            result = subprocess.run(
                [str(PG_BIN / "psql"), url, "-qAtX", "-c", counts],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            return result.stdout.strip()

        assert count(target_url) == count(source_url)
        assert not count(target_url).startswith("0|")
    finally:
        subprocess.run([*psql, f"DROP DATABASE IF EXISTS {target_name}"], env=env, check=True)
