import os
import platform
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from demoapp._version import VERSION


def _credential_names():
    """Names (never contents) of the systemd credentials passed to the service."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return []
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return []


@require_safe
def index(request):
    return render(request, "demoapp/index.html", {"version": VERSION})


@require_safe
def health(request):
    # DEMOAPP_HEALTH_STATUS lets the tests deploy a release that runs but reports itself unhealthy.
    status = int(os.environ.get("DEMOAPP_HEALTH_STATUS") or 200)
    return JsonResponse(
        {
            "status": "ok" if status < 400 else "unhealthy",
            "version": VERSION,
            "python": platform.python_version(),
            "pid": os.getpid(),
            "credentials": _credential_names(),
            "greeting": os.environ.get("GREETING"),
        },
        status=status,
    )


@require_safe
def slow(request):
    """Answer after ``?ms=`` milliseconds (at most 10 s): a request that is in flight while a release
    switches (the bench's load probe). Only with DEMOAPP_SLOW_ENDPOINT=1, else 404."""
    if os.environ.get("DEMOAPP_SLOW_ENDPOINT") != "1":
        raise Http404("no slow endpoint")
    try:
        ms = min(max(int(request.GET.get("ms", "1000")), 0), 10000)
    except ValueError:
        ms = 1000
    time.sleep(ms / 1000.0)
    return JsonResponse({"status": "ok", "version": VERSION, "slept_ms": ms, "pid": os.getpid()})


@require_http_methods(["GET", "POST"])
def counter(request):
    """The counter ``hits`` in the database: GET reads it, POST adds one. 503 without a database."""
    if not settings.DATABASES:
        return JsonResponse({"status": "no database (set DEMOAPP_DATABASE)"}, status=503)
    from demoapp.models import SCHEMA, Counter

    if request.method == "POST":
        with transaction.atomic():
            Counter.objects.get_or_create(name="hits")
            fields = {"value": F("value") + 1}
            if SCHEMA >= 2:
                fields["updated_by"] = VERSION
            Counter.objects.filter(name="hits").update(**fields)
    row = Counter.objects.filter(name="hits").values("value").first()
    return JsonResponse({"name": "hits", "value": row["value"] if row else 0, "version": VERSION,
                         "schema": SCHEMA})
