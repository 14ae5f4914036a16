"""Schemathesis against a live server: every operation of /api/schema/, bounded (a fixed seed, a
few examples each), fails on any 5xx, any response outside the schema, any error outside the
envelope (tests/ops/fuzz_checks.py; the checks are chosen in tests/ops/schemathesis.toml).
Its figures are printed (pytest -s shows them)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.services import api_key_create, user_create
from tests.conftest import Client
from tests.helpers import generate_done

pytestmark = pytest.mark.django_db(transaction=True)

HOOKS = Path(__file__).with_name("fuzz_checks.py")
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 21
EXAMPLES = 5


@pytest.fixture
def loopback_only(monkeypatch):
    """The server under test reaches nothing but this machine, whatever URL the fuzzer sends it
    (image_url, webhook_url, outbound webhooks, Google's certificates): names other than
    loopback do not resolve and connections elsewhere are refused."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def is_loopback(host) -> bool:
        host = host.decode() if isinstance(host, bytes) else str(host)
        return host in ("localhost", "::1") or host.startswith("127.")

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, "Only loopback resolves in this test")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise ConnectionRefusedError("Only loopback is reachable in this test")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


def _objects_of(user, key: str) -> dict[str, str]:
    """A finished generation with its image, and a collection holding it: ids for the fuzzer."""
    client = Client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    generation = generate_done(client, width=64, height=64)
    assert generation["status"] == "completed", generation
    asset_id = generation["images"][0]["id"]
    collection = client.post("/api/collections", {"name": "fuzzed"}, format="json").json()["collection"]
    client.post(f"/api/collections/{collection['id']}/assets", {"asset_ids": [asset_id]}, format="json")
    return {
        "ATELIER_FUZZ_ASSET": asset_id,
        "ATELIER_FUZZ_GENERATION": generation["id"],
        "ATELIER_FUZZ_COLLECTION": collection["id"],
    }


def test_fuzzing_every_operation_finds_no_5xx_no_schema_violation_and_no_bare_error(
    live_server, settings, tmp_path, loopback_only
):
    # Seed routes wait for their images, rendered here within the request; the bound only has to
    # be generous enough for a large image on a busy machine (seed 000 answers 503 past it).
    settings.ATELIER_SYNC_TIMEOUT_SECONDS = 10
    # Staff, so that the operator routes are fuzzed too, not only refused.
    staff = user_create(email="fuzz@example.com", password="correct horse battery", is_staff=True, is_superuser=True)
    _, key = api_key_create(user=staff, name="fuzz")
    objects = _objects_of(staff, key)
    report = tmp_path / "schemathesis.json"
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{live_server.url}/api/schema/",
        "--header",
        f"Authorization: Bearer {key}",
        "--phases",
        "examples,fuzzing",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        # The live server shares one in-memory database connection between its threads.
        "--workers",
        "1",
        "--no-shrink",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--output-truncate",
        "true",
    ]
    environment = {**os.environ, **objects, "SCHEMATHESIS_HOOKS": str(HOOKS), "NO_COLOR": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment, cwd=tmp_path)
    summary = json.loads(report.read_text())
    print(
        f"schemathesis: {summary['operations']['tested']} operations, {summary['test_cases']['generated']} "
        f"examples, {summary['running_time']:.0f} s, {summary['test_cases']['unique_failures']} failures, "
        f"{len(summary['errors'])} errors"
    )
    assert summary["operations"]["tested"] >= 70, summary["operations"]
    assert result.returncode == 0, result.stdout[-30000:]
