"""What zipapp_release's preparation decides before it writes anything (module_utils/_prepare.py)."""

from ansible_collections.containerless.zipapp.plugins.module_utils import _plan
from ansible_collections.containerless.zipapp.plugins.module_utils._prepare import warmed


def test_the_web_process_gets_the_warm_up_paths_and_host_in_its_environment():
    processes = _plan.processes_of({}, ["serve"], "127.0.0.1:8000")
    out = warmed(processes, ["/health", "/"], "app.example.com")
    assert out["web"]["env"] == {"ZIPAPP_WARMUP_PATHS": "/health /", "ZIPAPP_WARMUP_HOST": "app.example.com"}
    assert out["web"]["args"] == ["serve"] and "env" not in processes["web"]  # the input is left as it was


def test_the_environment_of_the_web_process_is_kept_and_other_processes_get_nothing():
    processes = {"web": {"args": ["serve"], "env": {"WEB_CONCURRENCY": "3"}}, "worker": {"args": ["worker"]}}
    out = warmed(processes, ["/"], "localhost")
    assert out["web"]["env"] == {"WEB_CONCURRENCY": "3", "ZIPAPP_WARMUP_PATHS": "/", "ZIPAPP_WARMUP_HOST": "localhost"}
    assert out["worker"] == {"args": ["worker"]}


def test_no_paths_or_no_web_process_change_nothing():
    processes = {"web": {"args": ["serve"]}}
    assert warmed(processes, [], "localhost") is processes
    workers = {"worker": {"args": ["worker"]}}
    assert warmed(workers, ["/"], "localhost") is workers
