# SPDX-License-Identifier: Apache-2.0
"""A thin pool crossing its agent's warning threshold becomes one event on the
pool per crossing (ThinPoolWarning, ThinPoolCritical, ThinPoolRecovered),
however many heartbeats repeat the level, also across a controller restart;
the level reported at registration counts too."""
import pytest

from controller_proc import GiB, Agent, Controller


@pytest.fixture
def ctl(tmp_path):
    c = Controller(tmp_path).start()
    yield c
    c.stop()


def pool(level, data=50.0, meta=10.0):
    return {"name": "vg0", "engine": "lvm", "thin": True, "capacity": 100 * GiB,
            "free": 10 * GiB, "thin_data_percent": data, "thin_metadata_percent": meta,
            "overprovision": 2.0, "thin_level": level}


def beat(ctl, level, **kw):
    ctl.ok("POST", "/v1/agent/heartbeat", {"node": "node-a", "pools": [pool(level, **kw)]},
           token="agent")


def thin_events(ctl):
    items = ctl.ok("GET", "/v1/events?object=node-a/vg0&limit=1000")["items"]
    return [(e["reason"], e["type"]) for e in items if e["reason"].startswith("ThinPool")]


def test_one_event_per_crossing(ctl):
    a = Agent(ctl, "node-a", pools=[pool("ok")])
    a.register()
    for _ in range(5):
        beat(ctl, "ok")
        beat(ctl, "extended")  # auto-extend worked: below the threshold again, no event
    assert thin_events(ctl) == []
    for _ in range(5):
        beat(ctl, "warning", data=86.0)
    assert thin_events(ctl) == [("ThinPoolWarning", "warning")]
    ev = [e for e in ctl.ok("GET", "/v1/events?object=node-a/vg0")["items"]
          if e["reason"] == "ThinPoolWarning"][0]
    assert ev["kind"] == "pool" and "data 86.0%" in ev["message"], ev
    beat(ctl, "critical", data=96.0)
    beat(ctl, "critical", data=97.0)
    assert thin_events(ctl)[-1] == ("ThinPoolCritical", "warning")
    assert len(thin_events(ctl)) == 2
    # the controller restarts: the level it made an event for is remembered
    ctl.kill9()
    ctl.start()
    beat(ctl, "critical", data=97.0)
    assert len(thin_events(ctl)) == 2
    beat(ctl, "extended", data=60.0)
    beat(ctl, "ok", data=60.0)
    assert thin_events(ctl)[-1] == ("ThinPoolRecovered", "normal")
    assert len(thin_events(ctl)) == 3
    # an agent restarted while the pool filled reports it when it registers
    Agent(ctl, "node-a", pools=[pool("warning", data=88.0)]).register()
    beat(ctl, "warning", data=88.0)
    assert thin_events(ctl)[-1] == ("ThinPoolWarning", "warning")
    assert len(thin_events(ctl)) == 4
    # a thick pool (no level) makes none
    ctl.ok("POST", "/v1/agent/heartbeat", {"node": "node-a", "pools": [
        {"name": "vg0", "engine": "lvm", "capacity": 100 * GiB, "free": 10 * GiB}]},
        token="agent")
    assert len(thin_events(ctl)) == 4
    ctl.error("POST", "/v1/agent/heartbeat", {"node": "node-a", "pools": [pool("full")]},
              token="agent", code="invalid_argument")
