"""Bad and unusual inputs dropped on the main window all at once, then colourized and exported."""

from __future__ import annotations

import pytest

from colorapp.photo_queue import ItemStatus
from colorapp.tasks import ExportOptions
from tests.helpers import real_photos, save_grayscale, sha256
from tests.test_robustness import BAD_REASONS, build_all_images, build_bad_models

pytestmark = pytest.mark.usefixtures("no_leftover_threads")

NOT_IMAGE_SUFFIXES = (".gif", ".safetensors", ".pt")
"""Suffixes the app does not open as photos, so a drop names those files as not opened."""


def test_drop_everything_then_colorize_all(gui, tmp_path):
    cases = build_all_images(tmp_path / "inputs")
    models, marker = build_bad_models(tmp_path / "models")
    vanishing = save_grayscale(real_photos()[2], tmp_path / "inputs" / "removed later.jpg")
    dropped = [case.path for case in cases.values()] + list(models.values()) + [vanishing]
    originals = {path: sha256(path) for path in dropped}

    added = gui.drop_and_wait(dropped)

    queued = {item.path for item in added}
    not_opened = {path for path in dropped if path.suffix in NOT_IMAGE_SUFFIXES}
    assert queued == set(dropped) - not_opened
    status = gui.window.statusBar().currentMessage()
    for path in not_opened:
        assert path.name in status, path.name
    assert "is not a supported image file" in status

    gui.wait_until_read()
    vanishing.unlink()
    progress = gui.run_to_end(gui.tab.colorize_all)

    for name, case in cases.items():
        if case.path in not_opened:
            continue
        row = gui.row_of(case.path.name)
        if case.good:
            assert row.status is ItemStatus.DONE, f"{name}: {row.status_text()}"
            assert row.size == case.size, name
        else:
            assert row.status is ItemStatus.FAILED, name
            assert BAD_REASONS[name] in row.reason, f"{name}: {row.reason}"
            assert str(case.path) not in row.reason, name
            assert row.status_text() == f"failed: {row.reason}"
    deleted_row = gui.row_of(vanishing.name)
    assert deleted_row.status is ItemStatus.FAILED
    assert deleted_row.reason == "file not found; it may have been moved or deleted"
    assert list(progress.failed) == [deleted_row.item_id]

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    done = [item.item_id for item in gui.tab.queue.items() if item.status is ItemStatus.DONE]
    export = gui.run_to_end(lambda: gui.tab.export_items(done, ExportOptions(folder=out_dir)))

    assert export.failed == {}
    assert len(export.succeeded) == len(done)
    written = list(out_dir.iterdir())
    assert len(written) == len(done)
    assert all(path.stat().st_size > 0 and not path.name.endswith(".part") for path in written)
    assert not marker.exists()
    for path, digest in originals.items():
        if path != vanishing:
            assert sha256(path) == digest, path.name
