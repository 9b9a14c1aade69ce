"""The status_report filter: hostvars in, the fleet's table or JSON out."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.containerless.zipapp.plugins.filter.status_report import FilterModule

report = FilterModule().filters()["status_report"]
APP = {"app": "demoapp", "live": "2.0.0", "previous": "1.0.0", "since": "t", "by": "ci@ctl",
       "units": {"demoapp.socket": "active"}, "failed": []}


def test_a_host_without_a_result_gets_a_row_that_says_so():
    hostvars = {"web1": {"__zipapp_status": {"root": "/opt/zipapp", "apps": [APP]}}, "web2": {}}
    lines = report(hostvars, ["web1", "web2", "web3"])
    assert lines[1].split()[:3] == ["web1", "demoapp", "2.0.0"]
    assert "no status (unreachable or failed)" in lines[2] and lines[3].startswith("web3")
    data = report(hostvars, ["web1", "web2"], "json")
    assert data["rows"][0]["live"] == "2.0.0" and data["rows"][1]["error"]
    assert data["disagreements"] == []


def test_an_unknown_format_is_refused():
    with pytest.raises(AnsibleFilterError, match="zipapp_status_format"):
        report({}, [], "yaml")
