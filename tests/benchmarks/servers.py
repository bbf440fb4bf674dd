"""The two servers under test, each a subprocess on loopback: the real bot and the bare app."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.harness import wire
from tests.benchmarks.load import Job, Result, result_from_json

SECRET = "benchmark-signing-secret"
TOKEN = "xoxb-benchmark-token"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(api_url: str, db_path: Path, **extra: str) -> dict[str, str]:
    """The bot's settings, with Slack at ``api_url``; nothing from the caller's SLACK_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
        DB_PATH=str(db_path),
        LOG_LEVEL="INFO",  # the default: a benchmark at DEBUG would measure the logging
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        **extra,
    )
    return env


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def rss_mb(self) -> float:
        """Resident memory now, from ``/proc/PID/status`` (VmRSS)."""
        self.check_alive()
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for {self.name} (pid {self.process.pid})")

    def check_alive(self) -> None:
        """Raise, with the end of its log, if the server has exited."""
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}:\n{self.log()[-3000:]}"
            )

    def job(self, **fields: Any) -> Job:
        return Job(url=self.url, secret=SECRET, **fields)

    def run(self, job: Job) -> Result:
        """Run a load job against this server in a separate client process."""
        completed = subprocess.run(
            [sys.executable, "-m", "tests.benchmarks.load"],
            input=json.dumps(asdict(job)).encode(),
            capture_output=True,
            cwd=ROOT,
            timeout=1800,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"load generator failed:\n{completed.stderr.decode()[-2000:]}")
        self.check_alive()
        return result_from_json(json.loads(completed.stdout))

    def post(self, body: bytes) -> tuple[int, bytes]:
        """Sign and POST one request, outside any measurement."""
        status, data, _ = wire.post(self.url, body, SECRET, timeout=30)
        return status, data

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start(name: str, module_args: list[str], env: dict[str, str], workdir: Path) -> Server:
    """Start ``python -m <module_args> --port N`` and wait until ``/healthz`` answers."""
    port = free_port()
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *module_args, "--port", str(port), "--host", "127.0.0.1"],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, process, port, log_path)
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} did not become healthy:\n{server.log()[-2000:]}")
        time.sleep(0.05)


def start_bot(api_url: str, workdir: Path) -> Server:
    """``incident-bot run --http`` (as ``python -m bot run --http``), its database in workdir."""
    env = server_env(api_url, workdir / "bot.db", NUDGE_ANYTIME="1")
    return start("bot", ["bot", "run", "--http"], env, workdir)


def start_bare(api_url: str, workdir: Path) -> Server:
    """The bare Bolt app (``bare_app.py``), started and awaited the same way."""
    env = server_env(api_url, workdir / "bare.db")
    return start("bare", ["tests.benchmarks.bare_app"], env, workdir)
