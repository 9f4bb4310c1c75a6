"""A training run killed with SIGKILL at random moments keeps a loadable checkpoint and resumes from it."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.training.checkpoint import load_checkpoint
from tests.helpers import DATA_DIR

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

CHECKPOINT_EVERY = 1
KILLS = 3
MAX_STEPS = 10_000
"""More steps than any round reaches, so every round ends by SIGKILL."""
START_TIMEOUT_S = 240
"""Seconds a round may take to import torch, read the photos and save its first checkpoint."""
SAVED = re.compile(r"saved checkpoint .*step_(\d+)\.pt")
RESUMED = re.compile(r"resumed at step (\d+)")


class TrainingProcess:
    """``python -m engine train`` in a subprocess, with its log lines collected as they arrive."""

    def __init__(self, command: list[str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    def saved_steps(self) -> list[int]:
        return [int(match.group(1)) for line in list(self.lines) if (match := SAVED.search(line))]

    def wait_for_checkpoint(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.saved_steps():
            assert self.process.poll() is None, "training exited early:\n" + "".join(self.lines)[-3000:]
            assert time.monotonic() < deadline, "no checkpoint in time:\n" + "".join(self.lines)[-3000:]
            time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)
        self._reader.join(timeout=60)


def _command(run: Path) -> list[str]:
    return [
        sys.executable, "-m", "engine", "train", "--data", str(DATA_DIR), "--out", str(run),
        "--width", "8", "--batch-size", "2", "--checkpoint-every", str(CHECKPOINT_EVERY),
        "--validate-every", "0", "--max-steps", str(MAX_STEPS), "--device", "cpu", "--threads", "1",
        "--resume",
    ]


def test_sigkill_keeps_resumable_checkpoint(tmp_path):
    rng = random.Random(20261204)
    run = tmp_path / "run"
    last = run / "checkpoints" / "last.pt"
    previous_saved = previous_checkpoint = None

    for round_number in range(KILLS):
        training = TrainingProcess(_command(run))
        training.wait_for_checkpoint(START_TIMEOUT_S)
        time.sleep(rng.uniform(0.0, 2.0))
        training.kill()
        log = "".join(training.lines)

        if previous_saved is not None:
            resumed = [int(match.group(1)) for match in RESUMED.finditer(log)]
            assert len(resumed) == 1, log[-3000:]
            assert resumed[0] == previous_checkpoint, f"round {round_number}"
            assert resumed[0] >= previous_saved - CHECKPOINT_EVERY, f"round {round_number}"
        saved = training.saved_steps()
        state = load_checkpoint(last)
        # last.pt is written before the step is logged as saved, so it is at least that step.
        assert state["step"] >= saved[-1], f"round {round_number}: {saved[-1]} logged, {state['step']} saved"
        assert state["step"] <= saved[-1] + CHECKPOINT_EVERY
        previous_saved = saved[-1]
        previous_checkpoint = state["step"]

    resumed_at = load_checkpoint(last)["step"]
    command = _command(run)
    command[command.index("--max-steps") + 1] = str(resumed_at + 1)
    final = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S)
    assert final.returncode == 0, final.stderr[-3000:]
    assert f"resumed at step {resumed_at}" in final.stderr
    assert load_checkpoint(last)["step"] == resumed_at + 1
