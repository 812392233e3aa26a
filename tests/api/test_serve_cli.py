"""`customer2vec serve`: help, errors before the model loads, and a real server process."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from customer2vec.cli import cli


def test_help_has_an_example():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "customer2vec serve models/" in result.output
    assert "--segments" in result.output and "--host" in result.output


def test_busy_port_fails_fast_with_a_clear_error(api_models):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["serve", str(api_models["item2vec"]), "--port", str(port)]
        )
    assert result.exit_code == 1
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port" in result.output


def test_missing_fastapi_names_the_serve_extra(api_models, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a)
    )
    result = CliRunner().invoke(cli, ["serve", str(api_models["item2vec"])])
    assert result.exit_code == 1
    assert "pip install 'customer2vec[serve]'" in result.output


def test_not_a_model_is_an_error_line(tmp_path):
    result = CliRunner().invoke(cli, ["serve", str(tmp_path), "--port", "0"])
    assert result.exit_code == 1
    assert "is not a customer2vec model" in result.output


@pytest.mark.slow
def test_serve_process_answers_on_loopback(api_models):
    import httpx

    command = [
        sys.executable,
        "-m",
        "customer2vec",
        "serve",
        str(api_models["item2vec"]),
        "--segments",
        str(api_models["segments"]),
        "--port",
        "0",
        "--map-items",
        "0",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "API docs:" in line:
                break
        text = "".join(lines)
        explorer = re.search(r"explorer: (http://127\.0\.0\.1:\d+)/", text)
        assert explorer, text
        assert f"API docs: {explorer.group(1)}/docs" in text
        base = explorer.group(1)
        for _ in range(100):  # the socket is bound before loading; wait for the app to run
            try:
                health = httpx.get(f"{base}/health", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health.json()["capabilities"]["segments"] is True
        recs = httpx.get(f"{base}/customers/c3/recommendations", params={"n": 2}, timeout=5)
        assert recs.status_code == 200 and len(recs.json()["items"]) == 2
        assert httpx.get(f"{base}/items/999/similar", timeout=5).status_code == 404
        assert "customer2vec explorer" in httpx.get(f"{base}/", timeout=5).text
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stderr.close()
