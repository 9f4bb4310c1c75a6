"""The Qt-free state behind the GUI: viewport, queue, batch progress, result store, settings, paths."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QSettings

from colorapp import image_files, settings as setting_keys
from colorapp.batch import BatchProgress, RunKind, format_duration
from colorapp.photo_queue import ItemStatus, PhotoQueue
from colorapp.result_store import ResultStore, photo_bytes
from colorapp.settings import SCHEMA_VERSION, Settings
from colorapp.viewport import FIT_MARGIN, MAX_SCALE, Viewport
from engine.imaging import Photo

VIEW = (800.0, 600.0)


# Viewport


def test_viewport_fit_centers_image():
    viewport = Viewport()
    viewport.set_image_size((400, 200))

    left, top, width, height = viewport.image_rect(VIEW)

    assert viewport.is_fit
    assert width == pytest.approx(VIEW[0] - 2 * FIT_MARGIN)
    assert width / height == pytest.approx(2.0)
    assert left + width / 2 == pytest.approx(VIEW[0] / 2)
    assert top + height / 2 == pytest.approx(VIEW[1] / 2)


@pytest.mark.parametrize("point", [(100.0, 300.0), (400.0, 300.0), (700.0, 200.0), (450.0, 411.0)])
@pytest.mark.parametrize("factor", [1.25, 2.0, 7.0])
def test_viewport_zoom_keeps_point_fixed(point, factor):
    viewport = Viewport()
    viewport.set_image_size((3000, 2000))
    before = viewport.map_to_image(point, VIEW)

    viewport.zoom_at(factor, point, VIEW)

    after = viewport.map_to_image(point, VIEW)
    assert not viewport.is_fit
    assert after == pytest.approx(before)
    assert viewport.scale_for(VIEW) == pytest.approx(viewport.fit_scale(VIEW) * factor)


def test_viewport_pan_moves_image_and_clamps():
    viewport = Viewport()
    viewport.set_image_size((1000, 1000))
    viewport.set_scale(2.0)
    left, top, _, _ = viewport.image_rect(VIEW)

    viewport.pan(30, -20, VIEW)

    new_left, new_top, _, _ = viewport.image_rect(VIEW)
    assert new_left == pytest.approx(left + 30)
    assert new_top == pytest.approx(top - 20)
    # A huge pan stops where the view center reaches the image corner.
    viewport.pan(1e6, 1e6, VIEW)
    assert viewport.center == (0.0, 0.0)


def test_viewport_scale_limits_and_fit():
    viewport = Viewport()
    viewport.set_image_size((100, 100))
    calls = []
    viewport.subscribe(lambda: calls.append(1))

    viewport.zoom_by(1000.0, VIEW)
    assert viewport.scale_for(VIEW) == MAX_SCALE
    viewport.fit()
    assert viewport.is_fit
    assert len(calls) == 2
    with pytest.raises(ValueError):
        viewport.zoom_by(0.0, VIEW)


def test_viewport_new_size_resets_to_fit():
    viewport = Viewport()
    viewport.set_image_size((100, 100))
    viewport.set_scale(3.0)

    viewport.set_image_size((100, 100))
    assert not viewport.is_fit
    viewport.set_image_size((200, 100))
    assert viewport.is_fit


# Queue


def test_queue_events_and_updates():
    queue = PhotoQueue()
    events = []
    queue.inserted.subscribe(lambda row, items: events.append(("inserted", row, len(items))))
    queue.changed.subscribe(lambda row, item: events.append(("changed", row, item.status)))
    queue.removed.subscribe(lambda row, item: events.append(("removed", row, item.name)))

    first = queue.add([(Path("/a.jpg"), "a.jpg"), (Path("/b.jpg"), "b.jpg"), (Path("/a.jpg"), "again")])
    second = queue.add([(Path("/c.jpg"), "c.jpg")])
    queue.update(first[1].item_id, status=ItemStatus.FAILED, reason="file not found")
    queue.remove([first[0].item_id, second[0].item_id])

    assert [item.name for item in first] == ["a.jpg", "b.jpg"]
    assert events == [
        ("inserted", 0, 2),
        ("inserted", 2, 1),
        ("changed", 1, ItemStatus.FAILED),
        ("removed", 2, "c.jpg"),
        ("removed", 0, "a.jpg"),
    ]
    assert [item.status_text() for item in queue.items()] == ["failed: file not found"]
    assert queue.update(first[0].item_id, status=ItemStatus.DONE) is None


def test_queue_item_status_text():
    queue = PhotoQueue()
    (item,) = queue.add([(Path("/scan.tif"), "scan.tif")])

    assert item.size_text() == "reading…"
    assert item.status_text() == "waiting"
    item = queue.update(item.item_id, status=ItemStatus.COLORIZING, progress=0.42, size=(6000, 4000))
    assert item.status_text() == "colorizing… 42 %"
    assert item.size_text() == "6000 × 4000 px"
    item = queue.update(item.item_id, status=ItemStatus.EXPORTED, exported_path=Path("/out/scan_colorized.png"))
    assert item.status_text() == "exported: scan_colorized.png"


# Batch progress


def test_batch_progress_estimates_remaining_time():
    now = [100.0]
    progress = BatchProgress(RunKind.EXPORT, [1, 2, 3, 4], clock=lambda: now[0])

    progress.start_item(1)
    assert progress.remaining_seconds() is None
    now[0] = 110.0
    progress.finish_item(1)
    progress.start_item(2)
    progress.set_item_fraction(2, 0.5)

    # 10 s for 1.5 photos, so 2.5 photos take about 16.7 s more.
    assert progress.remaining_seconds() == pytest.approx(10 / 1.5 * 2.5)
    assert progress.fraction() == pytest.approx(1.5 / 4)
    progress.finish_item(2, error="disk full")
    progress.finish_item(3, cancelled=True)
    progress.finish_item(4, cancelled=True)
    assert progress.is_complete
    assert progress.summary() == "Exported 1 photo; 1 failed; 2 cancelled."


@pytest.mark.parametrize(
    "seconds, text", [(4.4, "4 s"), (59.6, "1 min 0 s"), (185, "3 min 5 s"), (7800, "2 h 10 min")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


# Result store


def _photo(value: float, size: int = 64) -> Photo:
    return Photo(rgb=np.full((size, size, 3), value, dtype=np.float32), source=Path(f"/scans/{value}.jpg"))


def test_result_store_spills_to_files(tmp_path):
    one_photo = photo_bytes(_photo(0.0))
    store = ResultStore(tmp_path / "results", memory_budget=2 * one_photo)

    for item_id in range(1, 5):
        store.put(item_id, _photo(item_id / 10))

    assert store.memory_used() <= 2 * one_photo
    assert len(list((tmp_path / "results").iterdir())) == 2
    for item_id in range(1, 5):
        assert item_id in store
        photo = store.get(item_id)
        assert photo.rgb[0, 0, 0] == pytest.approx(item_id / 10)
        assert photo.source == Path(f"/scans/{item_id / 10}.jpg")

    store.discard(1)
    assert 1 not in store
    assert store.get(1) is None
    store.clear()
    assert list((tmp_path / "results").iterdir()) == []


# Settings


def _store(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def test_settings_migrate_schema_1(tmp_path):
    old = _store(tmp_path)
    old.setValue("schema_version", 1)
    old.setValue("export/jpeg_quality", 80)
    old.sync()

    settings = Settings(_store(tmp_path))

    assert settings.get(setting_keys.EXPORT_QUALITY) == 80
    assert settings.store.value("export/jpeg_quality") is None
    assert int(settings.store.value("schema_version")) == SCHEMA_VERSION


def test_settings_types_round_trip(tmp_path):
    settings = Settings(_store(tmp_path))
    settings.set(setting_keys.KEEP_TONE, True)
    settings.set(setting_keys.RENDER_SIZE, 1024)
    settings.set(setting_keys.SPLITTER_STATE, QByteArray(b"\x00\xff"))
    settings.sync()

    reread = Settings(_store(tmp_path))

    assert reread.get(setting_keys.KEEP_TONE) is True
    assert reread.get(setting_keys.RENDER_SIZE) == 1024
    assert reread.get(setting_keys.SPLITTER_STATE) == QByteArray(b"\x00\xff")


def test_settings_reject_invalid_values(tmp_path):
    store = _store(tmp_path)
    store.setValue("colorize/render_size", 300)
    store.setValue("colorize/keep_tone", "perhaps")
    settings = Settings(store)

    assert settings.get(setting_keys.RENDER_SIZE) == 256
    assert settings.get(setting_keys.KEEP_TONE) is False
    with pytest.raises(ValueError):
        settings.set(setting_keys.EXPORT_FORMAT, "gif")


def test_batch_progress_describe():
    now = [0.0]
    progress = BatchProgress(RunKind.COLORIZE, [1, 2, 3], clock=lambda: now[0])
    progress.start_item(1)
    assert progress.describe("attic scan.tif") == "Colorizing 1 of 3: attic scan.tif"

    now[0] = 20.0
    progress.finish_item(1)
    progress.start_item(2)
    assert progress.describe("wedding.jpg") == "Colorizing 2 of 3: wedding.jpg · about 40 s left"

    progress.cancel_requested = True
    assert progress.describe("wedding.jpg") == "Cancelling… 1 of 3 done."


def test_paths_in_pasted_text(tmp_path):
    spaced = tmp_path / "Oma's Fotos" / "Sommer 1952.jpg"
    spaced.parent.mkdir()
    spaced.write_bytes(b"")
    url = "file://" + urllib.parse.quote(str(spaced))
    text = f'  "{spaced}"  \n\n{url}\n/no/such/scan.jpg\nsome words\n'

    assert image_files.paths_in_text(text) == [spaced, spaced]
