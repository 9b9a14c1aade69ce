import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _systemd as sd


class FakeSystemctl:
    """Answers `systemctl show` with the given blocks and records every command."""

    def __init__(self, states):
        self.states = states
        self.calls = []

    def __call__(self, cmd):
        self.calls.append(cmd)
        if cmd[:2] == ["systemctl", "show"]:
            units = cmd[3:]
            return 0, "\n\n".join("LoadState=%s\nNeedDaemonReload=%s" % self.states[u] for u in units) + "\n", ""
        return 0, "", ""


def reloads(run):
    return [c for c in run.calls if c == ["systemctl", "daemon-reload"]]


def test_load_new_skips_the_reload_when_systemd_loaded_the_new_files():
    run = FakeSystemctl({"a-canary.service": ("loaded", "no"), "a-canary.socket": ("loaded", "no")})
    assert sd.load_new(run, ["a-canary.service", "a-canary.socket"]) is False
    assert reloads(run) == []
    assert run.calls == [["systemctl", "show", "--property=LoadState,NeedDaemonReload",
                          "a-canary.service", "a-canary.socket"]]


@pytest.mark.parametrize("state", [("loaded", "yes"), ("not-found", "no"), ("error", "no")])
def test_load_new_reloads_when_a_unit_is_stale_or_not_found(state):
    run = FakeSystemctl({"a-canary.service": ("loaded", "no"), "a-canary.socket": state})
    assert sd.load_new(run, ["a-canary.service", "a-canary.socket"]) is True
    assert len(reloads(run)) == 1
