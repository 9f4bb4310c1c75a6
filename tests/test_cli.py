import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2lab

from engine.cli import main
from tests.helpers import real_photos, save_grayscale, sha256


def _lightness(path):
    with Image.open(path) as image:
        return rgb2lab(np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0)[..., 0]


def test_colorize_keeps_resolution_and_lightness(tmp_path, shipped_model):
    source = save_grayscale(real_photos()[0], tmp_path / "old photo.png")
    before = sha256(source)
    out_dir = tmp_path / "out"
    assert main(["colorize", str(source), "-o", str(out_dir), "--model", str(shipped_model)]) == 0
    (written,) = out_dir.iterdir()
    with Image.open(written) as result, Image.open(source) as original:
        assert result.size == original.size
    assert np.abs(_lightness(written) - _lightness(source)).max() <= 1.0
    assert sha256(source) == before


def test_colorize_by_model_name(tmp_path):
    source = real_photos()[1]
    assert main(["colorize", str(source), "-o", str(tmp_path), "--model", "pix2pix", "--format", "jpeg"]) == 0
    (written,) = tmp_path.glob("*.jpg")
    assert written.name == f"{source.stem}_colorized.jpg"


def test_colorize_reports_bad_input_and_goes_on(tmp_path, shipped_model, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a jpeg")
    good = real_photos()[2]
    out_dir = tmp_path / "out"
    code = main(["colorize", str(broken), str(good), "-o", str(out_dir), "--model", str(shipped_model)])
    assert code == 1
    assert "broken.jpg" in capsys.readouterr().err
    assert [p.name for p in out_dir.iterdir()] == [f"{good.stem}_colorized.png"]


def test_colorize_unknown_model_name(tmp_path, capsys):
    assert main(["colorize", str(real_photos()[0]), "-o", str(tmp_path), "--model", "nonexistent"]) == 2
    assert "no model named" in capsys.readouterr().err


def test_module_entry_point_help():
    result = subprocess.run(
        [sys.executable, "-m", "engine", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    for command in ("colorize", "train", "export"):
        assert command in result.stdout


@pytest.mark.parametrize("recipe", ["pix2pix", "wgan-gp-class"])
def test_train_then_export_then_colorize(tmp_path, recipe):
    run = tmp_path / "run"
    args = ["train", "--recipe", recipe, "--data", str(real_photos()[0].parent), "--val",
            str(real_photos()[0].parent), "--out", str(run), "--width", "8", "--batch-size", "2",
            "--max-steps", "2", "--device", "cpu"]
    assert main(args) == 0
    model = tmp_path / "mine.safetensors"
    assert main(["export", str(run / "checkpoints" / "last.pt"), "-o", str(model), "--name", "Mine"]) == 0
    out_dir = tmp_path / "out"
    assert main(["colorize", str(real_photos()[0]), "-o", str(out_dir), "--model", str(model)]) == 0
    assert len(list(out_dir.iterdir())) == 1


def test_train_resume_continues(tmp_path):
    run = tmp_path / "run"
    base = ["train", "--data", str(real_photos()[0].parent), "--out", str(run), "--width", "8",
            "--batch-size", "2", "--device", "cpu", "--checkpoint-every", "1"]
    assert main(base + ["--max-steps", "1"]) == 0
    assert main(base + ["--max-steps", "2", "--resume"]) == 0
    from engine.training.checkpoint import load_checkpoint

    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 2


def test_train_stops_on_interrupt_and_resumes(tmp_path):
    import signal
    import time

    from engine.training.checkpoint import load_checkpoint

    run = tmp_path / "run"
    data = str(real_photos()[0].parent)
    command = [sys.executable, "-m", "engine", "train", "--recipe", "wgan-gp-class", "--data", data,
               "--val", data, "--out", str(run), "--width", "8", "--batch-size", "2",
               "--device", "cpu", "--threads", "1", "--validate-every", "0"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 240
    for line in process.stderr:
        lines.append(line)
        if "step 1/" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    lines.extend(process.stderr)
    assert process.wait(timeout=120) == 130, "".join(lines)[-2000:]
    stopped_at = load_checkpoint(run / "checkpoints" / "last.pt")["step"]
    assert stopped_at >= 1

    resumed = subprocess.run(command + ["--resume", "--max-steps", str(stopped_at + 1)],
                             capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resumed at step {stopped_at}" in resumed.stderr
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == stopped_at + 1
