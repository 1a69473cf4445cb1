"""Every passed check says what proved it, and the proof is the lab's own objects, by id."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

import pytest
from defusedxml import ElementTree

from devlab.model_student import MYSQL_PASSWORD

pytestmark = pytest.mark.engine

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_passed_check_carries_evidence_of_the_lab(completed_lab, grade, engine) -> None:
    graded = grade("--json")
    assert graded.exit_code == 0
    evidence = {cid: check["evidence"] for cid, check in graded.checks.items()}
    assert all(evidence.values()), [cid for cid, items in evidence.items() if not items]
    info = engine.info()
    assert graded.doc["engine"] == {
        "id": info["ID"],
        "name": info["Name"],
        "version": info["ServerVersion"],
        "context": "default",
        "endpoint": "unix:///var/run/docker.sock",
    }
    mydb = engine.containers.get("mydb")
    assert {"kind": "container", "id": mydb.id} in [
        {"kind": e["kind"], "id": e["id"]} for e in evidence["mydb.running"]
    ]
    assert evidence["mydb.image"][0]["image"] == mydb.image.id
    figlet = engine.images.get("ourfiglet")
    assert {"kind": "image", "id": figlet.id} in [
        {"kind": e["kind"], "id": e["id"]} for e in evidence["figlet.runs"]
    ]
    (event,) = evidence["ubuntu.interactive"]
    assert (event["kind"], event["name"]) == ("event", "create") and HEX64.match(event["id"])
    tweet = completed_lab.tweet_app
    files = {e["name"]: e["id"] for cid in graded.checks for e in evidence[cid]}
    assert files["tweet_app/Dockerfile"] == sha256((tweet / "Dockerfile").read_bytes())
    assert files["tweet_app/index.html"] == sha256((tweet / "index.html").read_bytes())
    assert files["hello/index.js"] == sha256((completed_lab.hello_dir / "index.js").read_bytes())


def test_evidence_is_ids_times_and_hashes_only(completed_lab, grade) -> None:
    graded = grade("--json")
    created = graded.doc["checks"]
    for check in created:
        for item in check["evidence"]:
            assert set(item) <= {"kind", "id", "created", "image", "name"}
            if item["kind"] in ("container", "event", "file"):
                assert HEX64.match(item["id"]), item
            if item["kind"] == "image":
                assert re.match(r"^sha256:[0-9a-f]{64}$", item["id"]), item
            if "created" in item:
                datetime.fromisoformat(item["created"])  # parses
    assert MYSQL_PASSWORD not in graded.stdout


def test_the_junit_report_carries_the_evidence_in_dialect_2(completed_lab, grade, tmp_path) -> None:
    report = tmp_path / "report.xml"
    assert grade("--junit", str(report), "--json").exit_code == 0
    suite = ElementTree.parse(report).getroot().find("testsuite")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["dialect_version"] == "2"
    assert properties["engine_name"] and properties["engine_version"]
    for check in ("alpine.hostname", "tweet.dockerfile", "hello.runs"):
        assert f"evidence.{check}.1" in properties
    assert MYSQL_PASSWORD not in report.read_text()


def test_a_failed_check_carries_no_evidence(completed_lab, grade, engine) -> None:
    engine.api.stop("mydb")
    try:
        graded = grade("--json", "task1")
    finally:
        engine.api.start("mydb")
        completed_lab.wait_for_mysql()
    assert graded.checks["mydb.running"]["status"] == "failed"
    assert graded.checks["mydb.running"]["evidence"] == []
    assert graded.checks["mydb.password"]["evidence"]  # still passed, still proved
