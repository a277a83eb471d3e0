"""A production install is `pip install --group prod` and nothing else: a
fresh venv built from that group alone must pass `manage.py check --deploy`
and import every module the site loads (the admin's readability grades
included). Slow-ish (a venv and an install); pip's own cache makes reruns quick.
"""

import subprocess
import venv

from tests.servers import BASE_DIR


def run(*command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)


def test_the_prod_group_alone_runs_the_site(tmp_path):
    target = tmp_path / "prod-venv"
    venv.EnvBuilder(with_pip=True).create(target)
    python = str(target / "bin" / "python")
    install = run(
        python, "-m", "pip", "install", "--quiet", "pip==26.3", cwd=BASE_DIR
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]
    install = run(python, "-m", "pip", "install", "--quiet", "--group", "prod", cwd=BASE_DIR)
    assert install.returncode == 0, install.stderr[-2000:]
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SECRET_KEY": "prod-deps-" + "k" * 50,
        "DJANGO_SECURE_SSL_REDIRECT": "on",
        "DJANGO_SECURE_HSTS_SECONDS": "31536000",
        "DJANGO_SECURE_HSTS_PRELOAD": "on",
        "DJANGO_SECURE_COOKIES": "on",
        "DJANGO_BEHIND_TLS_PROXY": "on",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    deploy_check = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    check = run(python, *deploy_check, cwd=BASE_DIR, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    # Every module of the package imports, the admin's readability grades among them.
    imports = run(
        python,
        "-c",
        "import django; django.setup(); import therapyinfo.admin, therapyinfo.readability, "
        "therapyinfo.templatetags.content, gunicorn, textstat; print('ok')",
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "therapyinfo.settings"},
    )
    assert imports.stdout.strip() == "ok", imports.stderr[-2000:]
    # Nothing from the dev group crept in.
    listed = run(python, "-m", "pip", "list", "--format=freeze").stdout.lower()
    assert "pytest" not in listed and "playwright" not in listed
