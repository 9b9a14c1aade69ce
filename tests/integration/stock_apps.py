"""A stock Django project and a Flask app, made the way their users make them, for the publish tests.

The Django project is what ``django-admin startproject`` + ``startapp`` write (made here, not kept as a
fixture), with the edits a team makes in its first days: ``templates/`` and ``static/`` at the project root,
whitenoise with compressed manifest storage, STATIC_ROOT inside the project, the secret key from the
environment, a page rendered from ``templates/`` and a slow page (for the graceful stop).
"""

import os
import re
import subprocess
import sys

DJANGO_REQUIREMENTS = """\
Django==5.2.20
asgiref==3.13.0
sqlparse==0.6.1
gunicorn==27.0.1
whitenoise==6.12.0
"""

FLASK_REQUIREMENTS = """\
Flask==3.1.3
Werkzeug==3.1.9
Jinja2==3.1.6
MarkupSafe==3.0.4
itsdangerous==2.2.0
click==8.5.1
blinker==1.9.0
gunicorn==27.0.1
"""

HOME_HTML = """{% load static %}<!doctype html>
<title>mysite</title><link rel="stylesheet" href="{% static 'site.css' %}">
<h1>Hello from templates/home.html</h1><p>polls: {{ polls_js }}</p>
"""

VIEWS = '''import time

from django.http import HttpResponse
from django.shortcuts import render
from django.templatetags.static import static


def index(request):
    return render(request, "home.html", {"polls_js": static("polls/app.js")})


def slow(request):
    time.sleep(float(request.GET.get("s", "3")))
    return HttpResponse("slow request finished\\n")
'''

URLS = '''from django.urls import path

from polls import views

urlpatterns = [
    path("", views.index),
    path("slow/", views.slow),
]
'''


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def make_django_project(root, name="mysite"):
    """``django-admin startproject mysite <root>`` + ``startapp polls``, then the usual first edits."""
    os.makedirs(root)
    subprocess.run([sys.executable, "-m", "django", "startproject", name, root], check=True)
    subprocess.run([sys.executable, "manage.py", "startapp", "polls"], cwd=root, check=True)
    settings_py = os.path.join(root, name, "settings.py")
    with open(settings_py) as f:
        settings = f.read()
    assert "BASE_DIR = Path(__file__).resolve().parent.parent" in settings  # as Django writes it
    edits = [  # quote-agnostic: startproject runs black over its files when black is on PATH
        (r"from pathlib import Path", "import os\nfrom pathlib import Path"),
        (r"SECRET_KEY = .*", 'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]'),
        (r"DEBUG = True", "DEBUG = False"),
        (r"ALLOWED_HOSTS = \[\]", 'ALLOWED_HOSTS = ["127.0.0.1", "localhost"]'),
        (r"(INSTALLED_APPS = \[\n(?:.*\n)*?)\]", r'\1    "polls",\n]'),
        (r"(['\"]django\.middleware\.security\.SecurityMiddleware['\"],\n)",
         r'\1    "whitenoise.middleware.WhiteNoiseMiddleware",\n'),
        (r"(['\"])DIRS\1: \[\],", '"DIRS": [BASE_DIR / "templates"],'),
    ]
    for pattern, replacement in edits:
        settings, count = re.subn(pattern, replacement, settings, count=1)
        assert count == 1, pattern
    settings += ('\nSTATICFILES_DIRS = [BASE_DIR / "static"]\nSTATIC_ROOT = BASE_DIR / "staticfiles"\n'
                 'STORAGES = {\n    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},\n'
                 '    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},\n}\n')
    with open(settings_py, "w") as f:
        f.write(settings)
    write(os.path.join(root, "templates", "home.html"), HOME_HTML)
    write(os.path.join(root, "static", "site.css"), "body { color: #123456; }\n")
    write(os.path.join(root, "polls", "static", "polls", "app.js"), "console.log('polls');\n")
    write(os.path.join(root, "polls", "views.py"), VIEWS)
    write(os.path.join(root, name, "urls.py"), URLS)
    write(os.path.join(root, "requirements.txt"), DJANGO_REQUIREMENTS)
    # what a developer's checkout has and the zipapp must not: a local database, an old collectstatic, a .env
    write(os.path.join(root, "db.sqlite3"), "not a database")
    write(os.path.join(root, "staticfiles", "stale.css"), "/* collected long ago */\n")
    write(os.path.join(root, ".env"), "DJANGO_SECRET_KEY=from-a-developer-dotenv\n")
    write(os.path.join(root, "notes", "todo.txt"), "left out by zipapp_publish_exclude\n")
    return root


FLASK_APP = '''import os
import sys

from flask import Flask, render_template, request

app = Flask(__name__)


@app.route("/")
def index():
    return render_template("index.html", who=os.environ.get("GREETING", "Flask"))


@app.route("/warm")
def warm():  # what the launcher's warm-up requests (ZIPAPP_WARMUP_PATHS): a line in the server's log per worker
    print("warmed in %d by %s" % (os.getpid(), request.headers.get("User-Agent")), file=sys.stderr, flush=True)
    return "warm"
'''


def make_flask_app(root, requirements=FLASK_REQUIREMENTS):
    write(os.path.join(root, "app.py"), FLASK_APP)
    write(os.path.join(root, "templates", "index.html"), "<h1>Hello from {{ who }} in templates/index.html</h1>\n")
    write(os.path.join(root, "requirements.txt"), requirements)
    return root


def git_commit(root):
    """A repository with one commit, so SOURCE_DATE_EPOCH comes from git as it does in CI."""
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_AUTHOR_DATE="2026-01-02T03:04:05Z",
               GIT_COMMITTER_DATE="2026-01-02T03:04:05Z")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    with open(os.path.join(root, ".gitignore"), "w") as f:
        f.write("db.sqlite3\nstaticfiles/\n.env\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "startproject"], cwd=root, check=True, env=env)
