"""Each engine host's network namespace (a veth pair in ``10.231.0.0/16``), and the
forwarding and masquerading that let its containers out, as Docker's bridge does.
"""

from __future__ import annotations

from pathlib import Path

from devlab.remote.hosts import SUBNET, _EngineSpec
from devlab.remote.processes import _run, _stop_processes


def ensure_host_firewall(subnet: str = SUBNET) -> None:
    """Forward and masquerade a range of the suite's namespaces, as Docker does for its own
    bridge (the remote hosts' here, the Podman lab's in :mod:`devlab.podman`).

    Docker's FORWARD policy is DROP; ``DOCKER-USER`` is the chain it leaves to the admin.
    """
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
    rules = [
        ("filter", "DOCKER-USER", ["-s", subnet, "-j", "ACCEPT"]),
        ("filter", "DOCKER-USER", ["-d", subnet, "-j", "ACCEPT"]),
        ("nat", "POSTROUTING", ["-s", subnet, "!", "-d", subnet, "-j", "MASQUERADE"]),
    ]
    for table, chain, rule in rules:
        if _run(["iptables", "-t", table, "-n", "-L", chain], "iptables", check=False).returncode:
            _run(["iptables", "-t", table, "-N", chain], f"creating iptables chain {chain}")
        probe = ["iptables", "-t", table, "-C", chain, *rule]
        if _run(probe, "iptables", check=False).returncode != 0:
            _run(["iptables", "-t", table, "-I", chain, "1", *rule], f"adding {' '.join(rule)}")


def _netns_ok(spec: _EngineSpec) -> bool:
    if not Path(f"/run/netns/{spec.netns}").exists():
        return False
    inside = _run(
        ["ip", "-n", spec.netns, "-4", "-o", "addr", "show", "dev", "eth0", "up"],
        "ip",
        check=False,
    )
    outside = _run(["ip", "-4", "-o", "addr", "show", "dev", spec.veth, "up"], "ip", check=False)
    return f" {spec.address}/24 " in inside.stdout and f" {spec.gateway}/24 " in outside.stdout


def _ensure_netns(spec: _EngineSpec) -> bool:
    """The namespace with its veth pair up and routed; True if it had to be (re)made."""
    if _netns_ok(spec):
        return False
    _stop_processes(spec)
    _run(["ip", "netns", "delete", spec.netns], "ip", check=False)
    _run(["ip", "link", "delete", spec.veth], "ip", check=False)
    what = f"making netns {spec.netns}"
    _run(["ip", "netns", "add", spec.netns], what)
    _run(["ip", "link", "add", spec.veth, "type", "veth", "peer", "name", "eth0",
          "netns", spec.netns], what)  # fmt: skip
    _run(["ip", "addr", "add", f"{spec.gateway}/24", "dev", spec.veth], what)
    _run(["ip", "link", "set", spec.veth, "up"], what)
    for cmd in (
        ["addr", "add", f"{spec.address}/24", "dev", "eth0"],
        ["link", "set", "eth0", "up"],
        ["link", "set", "lo", "up"],
        ["route", "add", "default", "via", spec.gateway],
    ):
        _run(["ip", "-n", spec.netns, *cmd], what)
    return True
