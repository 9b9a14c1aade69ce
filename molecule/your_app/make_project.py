#!/usr/bin/env python3
"""Make the project of the your_app scenario the way a team has it, from docs/your-app.md.

    make_project.py DOCS PROJECT VERSION

VERSION 1.0.0 starts a project with ``django-admin startproject mysite .`` and ``manage.py startapp pages`` (the
stock layout: manage.py at the root, BASE_DIR = Path(__file__).resolve().parent.parent), adds ``templates/`` and
``static/`` at the root, then applies what docs/your-app.md tells a user to add: the settings block, the health
URL, the requirements, and writes the page's publish.yml, mysite.yml and createsuperuser.yml, all taken from the
page's blocks marked ``<!-- your_app: NAME -->``. VERSION 2.0.0 changes the project as a team would for its next
release: a model and its migration (``makemigrations``), a page that reads it. Each version is a git commit with a
fixed date, since the build takes SOURCE_DATE_EPOCH from the last commit.

The app itself is small but has the shapes that break a deploy that moves files: the ``pages`` package (more than
20 files: its templates) reads a data file beside itself through ``Path(__file__).resolve().parent.parent``, as
Django's own BASE_DIR does.
"""

import os
import re
import shutil
import subprocess
import sys

COMMIT_DATES = {"1.0.0": "2026-11-02T10:00:00Z", "2.0.0": "2026-11-09T10:00:00Z"}
SECTIONS = 24  # template partials of the pages app: the package has more than 20 files


def blocks(docs):
    """The fenced blocks of docs/your-app.md marked ``<!-- your_app: NAME -->``, by NAME."""
    with open(docs, encoding="utf-8") as f:
        text = f.read()
    found = dict(re.findall(r"<!-- your_app: ([a-z_]+) -->\n```[a-z]*\n(.*?)\n```", text, re.S))
    wanted = {"settings", "urls", "requirements", "publish", "app", "exec"}
    missing = wanted - set(found)
    if missing:
        raise SystemExit("docs/your-app.md lacks the marked blocks %s" % ", ".join(sorted(missing)))
    return found


def run(cmd, cwd, env=None):
    res = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=dict(os.environ, **(env or {})))
    if res.returncode != 0:
        raise SystemExit("%s failed (rc=%d):\n%s" % (" ".join(cmd), res.returncode, res.stdout[-3000:]))
    return res.stdout


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def start(docs, project):
    """1.0.0: the stock project, as a new team member would make it from the page."""
    b = blocks(docs)
    if os.path.exists(project):
        shutil.rmtree(project)
    os.makedirs(project)
    run(["django-admin", "startproject", "mysite", "."], project)
    run([sys.executable, "manage.py", "startapp", "pages"], project)
    os.makedirs(os.path.join(project, "templates"))
    os.makedirs(os.path.join(project, "static"))
    with open(os.path.join(project, "mysite", "settings.py"), "a", encoding="utf-8") as f:
        f.write("\n\n" + b["settings"] + "\n")
    with open(os.path.join(project, "mysite", "urls.py"), "a", encoding="utf-8") as f:
        f.write("\n" + b["urls"] + "\n" + 'urlpatterns += [path("", include("pages.urls"))]\n')
    urls = os.path.join(project, "mysite", "urls.py")
    with open(urls, encoding="utf-8") as f:
        text = f.read()
    write(urls, text.replace("from django.urls import path", "from django.urls import include, path", 1))
    write(os.path.join(project, "requirements.txt"), b["requirements"] + "\n")
    write(os.path.join(project, "publish.yml"), b["publish"] + "\n")
    write(os.path.join(project, "mysite.yml"), b["app"] + "\n")
    write(os.path.join(project, "createsuperuser.yml"), b["exec"] + "\n")
    write(os.path.join(project, ".gitignore"), "db.sqlite3\nstaticfiles/\n__pycache__/\n")
    # root templates/ and static/, found through BASE_DIR
    write(os.path.join(project, "templates", "base.html"),
          "{% load static %}<!doctype html>\n<html><head><title>mysite {{ version }}</title>\n"
          '<link rel="stylesheet" href="{% static \'site.css\' %}"></head>\n'
          "<body>{% block content %}{% endblock %}</body></html>\n")
    write(os.path.join(project, "static", "site.css"), "body { font-family: sans-serif; }\n")
    # data beside the packages, read through Path(__file__).resolve()
    write(os.path.join(project, "content", "motd.txt"), "Hello from the content directory\n")
    write(os.path.join(project, "content", "version.txt"), "1.0.0\n")
    pages = os.path.join(project, "pages")
    write(os.path.join(pages, "urls.py"),
          "from django.urls import path\n\nfrom pages import views\n\n"
          'urlpatterns = [path("", views.index, name="index")]\n')
    write(os.path.join(pages, "views.py"), VIEWS_1)
    write(os.path.join(pages, "templates", "pages", "index.html"),
          '{% extends "base.html" %}\n{% block content %}<h1>mysite {{ version }}</h1>\n<p class="motd">{{ motd }}</p>'
          '\n{% for n in sections %}{% include "pages/section_"|add:n|add:".html" %}{% endfor %}\n'
          "{% if notes is not None %}<p class=\"notes\">notes: {{ notes }}</p>{% endif %}\n{% endblock %}\n")
    for i in range(SECTIONS):
        write(os.path.join(pages, "templates", "pages", "section_%02d.html" % i), "<section>%d</section>\n" % i)
    commit(project, "1.0.0")


VIEWS_1 = '''from pathlib import Path

from django.shortcuts import render

# data beside the package, found as Django's BASE_DIR is: through the resolved path of this file
CONTENT = Path(__file__).resolve().parent.parent / "content"


def index(request):
    context = {
        "version": (CONTENT / "version.txt").read_text().strip(),
        "motd": (CONTENT / "motd.txt").read_text().strip(),
        "sections": ["%02d" % i for i in range(3)],
        "notes": None,
    }
    return render(request, "pages/index.html", context)
'''

VIEWS_2 = VIEWS_1.replace("from django.shortcuts import render\n",
                          "from django.shortcuts import render\n\nfrom pages.models import Note\n").replace(
    '"notes": None,', '"notes": Note.objects.count(),')

MODELS_2 = '''from django.db import models


class Note(models.Model):
    text = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)
'''


def upgrade(project):
    """2.0.0: a model and its migration, and a page that reads it (the migration must run before the switch)."""
    write(os.path.join(project, "pages", "models.py"), MODELS_2)
    write(os.path.join(project, "pages", "views.py"), VIEWS_2)
    write(os.path.join(project, "content", "version.txt"), "2.0.0\n")
    run([sys.executable, "manage.py", "makemigrations", "pages"], project, {"PYTHONDONTWRITEBYTECODE": "1"})
    commit(project, "2.0.0")


def commit(project, version):
    env = {"GIT_AUTHOR_DATE": COMMIT_DATES[version], "GIT_COMMITTER_DATE": COMMIT_DATES[version],
           "GIT_AUTHOR_NAME": "your_app", "GIT_AUTHOR_EMAIL": "your_app@example.com",
           "GIT_COMMITTER_NAME": "your_app", "GIT_COMMITTER_EMAIL": "your_app@example.com"}
    if not os.path.isdir(os.path.join(project, ".git")):
        run(["git", "init", "-q", "-b", "main"], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "mysite %s" % version], project, env)


def main():
    docs, project, version = sys.argv[1:4]
    if version == "1.0.0":
        start(docs, project)
    elif version == "2.0.0":
        upgrade(project)
    else:
        raise SystemExit("version must be 1.0.0 or 2.0.0")
    print("made %s %s" % (project, version))


if __name__ == "__main__":
    main()
