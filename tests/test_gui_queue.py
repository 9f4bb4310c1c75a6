"""The photo queue: folder drops, unreadable files, paths, selection, removal and pasting."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage

from colorapp import intake
from colorapp.photo_queue import ItemStatus
from colorapp.tasks import ExportOptions
from tests.conftest import OPEN_TIMEOUT_MS
from tests.helpers import real_photos, save_grayscale

pytestmark = pytest.mark.usefixtures("no_leftover_threads")

NON_ASCII_NAME = "Grand-mère à la plage 1952.jpg"


@pytest.fixture
def scan_box(tmp_path) -> Path:
    """A folder tree as a family archivist has it, junk included."""
    photos = real_photos()
    box = tmp_path / "shoe box"
    nested = box / "1950s" / "summer"
    hidden_folder = box / ".cache"
    for folder in (nested, hidden_folder):
        folder.mkdir(parents=True)
    save_grayscale(photos[0], box / "a_wedding.jpg")
    save_grayscale(photos[1], box / NON_ASCII_NAME)
    save_grayscale(photos[2], nested / "family picnic.png")
    save_grayscale(photos[3], box / ".hidden_scan.jpg")
    save_grayscale(photos[3], hidden_folder / "cached.jpg")
    (box / "Thumbs.db").write_bytes(b"\x00" * 64)
    (box / ".DS_Store").write_bytes(b"\x00" * 64)
    (box / "notes.txt").write_text("Aunt Rosa, 1952")
    (box / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated JPEG")
    return box


def test_folder_tree_drop_lists_photos(gui, scan_box):
    added = gui.drop_and_wait([scan_box])

    names = sorted(item.name for item in added)
    assert names == sorted([NON_ASCII_NAME, "a_wedding.jpg", "broken.jpg", "family picnic.png"])
    assert [item.name for item in gui.tab.queue.items()] == [item.name for item in added]
    assert "Added 4 photos" in gui.window.statusBar().currentMessage()

    gui.wait_until_read()
    broken = gui.row_of("broken.jpg")
    assert broken.status is ItemStatus.FAILED
    # The row shows the engine's reason without the path, which the row already names.
    assert "damaged" in broken.reason
    assert str(broken.path) not in broken.reason
    assert broken.status_text() == f"failed: {broken.reason}"
    for name in ("a_wedding.jpg", NON_ASCII_NAME, "family picnic.png"):
        row = gui.row_of(name)
        with Image.open(row.path) as image:
            assert row.size == image.size
        assert row.status is ItemStatus.WAITING
        assert row.size_text() == f"{image.size[0]} × {image.size[1]} px"
        assert gui.tab.queue_model.thumbnail(row.item_id) is not None


def test_colorize_all_goes_past_broken_photo(gui, scan_box):
    gui.drop_and_wait([scan_box])
    gui.wait_until_read()

    progress = gui.run_to_end(gui.tab.colorize_all)

    assert len(progress.succeeded) == 3
    assert progress.failed == {}
    for name in ("a_wedding.jpg", NON_ASCII_NAME, "family picnic.png"):
        assert gui.row_of(name).status is ItemStatus.DONE
        assert gui.row_of(name).item_id in gui.tab.store
    broken = gui.row_of("broken.jpg")
    assert broken.status is ItemStatus.FAILED
    assert "damaged" in broken.reason
    assert "Colorized 3 photos" in gui.window.statusBar().currentMessage()


def test_failure_mid_run_keeps_going(gui, tmp_path):
    photos = [save_grayscale(source, tmp_path / f"scan {number}.jpg") for number, source in enumerate(real_photos()[:3])]
    gui.drop_and_wait(photos)
    gui.wait_until_read()
    photos[1].unlink()

    progress = gui.run_to_end(gui.tab.colorize_all)

    vanished = gui.row_of("scan 1.jpg")
    assert list(progress.failed) == [vanished.item_id]
    assert vanished.status is ItemStatus.FAILED
    assert vanished.reason == "file not found; it may have been moved or deleted"
    assert gui.row_of("scan 0.jpg").status is ItemStatus.DONE
    assert gui.row_of("scan 2.jpg").status is ItemStatus.DONE
    assert "1 failed" in gui.window.statusBar().currentMessage()


def test_long_spaced_non_ascii_path(gui, tmp_path):
    folder = tmp_path
    for level in range(4):
        folder = folder / f"Archiv der Familie Müller – Teil {level} – Fotos aus dem Nachlass"
    folder.mkdir(parents=True)
    photo = save_grayscale(real_photos()[0], folder / ("Sommerfest im Garten, Großmutter und Enkel " * 2 + ".jpg"))
    assert len(str(photo)) > 300
    export_folder = folder / "Ergebnisse für Oma"
    export_folder.mkdir()

    gui.open_and_show(photo)
    gui.colorize_selected()
    progress = gui.run_to_end(
        lambda: gui.tab.export_items([gui.tab.current_item().item_id], ExportOptions(folder=export_folder))
    )

    assert progress.failed == {}
    exported = list(export_folder.iterdir())
    assert [path.name for path in exported] == [photo.stem + "_colorized.png"]


def test_selecting_row_shows_photo(gui, tmp_path):
    photos = [save_grayscale(source, tmp_path / f"{number}_{source.name}") for number, source in enumerate(real_photos())]
    gui.drop_and_wait(photos)

    gui.show_row(3)

    item = gui.tab.current_item()
    assert item.path == photos[3]
    with Image.open(photos[3]) as image:
        assert (gui.tab.view.original().width(), gui.tab.view.original().height()) == image.size
    assert item.name in gui.window.windowTitle()
    assert item.name in gui.tab.panel.photo_label.text()


def test_remove_and_clear(gui, tmp_path):
    photos = [save_grayscale(source, tmp_path / source.name) for source in real_photos()[:3]]
    gui.drop_and_wait(photos)
    gui.show_row(1)
    gui.run_to_end(gui.tab.colorize)
    removed_id = gui.tab.current_item().item_id
    assert removed_id in gui.tab.store

    gui.tab.queue_panel.list_view.setFocus()
    with gui.qtbot.waitSignal(gui.tab.photo_opened, timeout=OPEN_TIMEOUT_MS):
        gui.qtbot.keyClick(gui.tab.queue_panel.list_view, Qt.Key.Key_Delete)

    assert [item.path for item in gui.tab.queue.items()] == [photos[0], photos[2]]
    assert removed_id not in gui.tab.store
    assert gui.tab.current_item().path == photos[2]
    assert all(path.exists() for path in photos)

    gui.qtbot.mouseClick(gui.tab.queue_panel.clear_button, Qt.MouseButton.LeftButton)

    assert len(gui.tab.queue) == 0
    assert gui.tab.queue_model.rowCount() == 0
    assert gui.tab.view.original() is None
    assert gui.tab.current_item() is None
    assert not gui.tab.colorize_all_action.isEnabled()


def test_paste_image_from_clipboard(gui, tmp_path):
    with Image.open(real_photos()[1]) as source:
        gray = source.convert("L").convert("RGB")
        size = gray.size
        pixels = gray.tobytes()
    image = QImage(pixels, size[0], size[1], size[0] * 3, QImage.Format.Format_RGB888).copy()
    QGuiApplication.clipboard().setImage(image)

    with gui.qtbot.waitSignal(gui.tab.photo_opened, timeout=OPEN_TIMEOUT_MS) as blocker:
        gui.tab.paste_action.trigger()

    assert blocker.args[0].size == size
    item = gui.tab.current_item()
    assert item.name == "Pasted 1"
    assert item.path.name == "Pasted 1.png"
    gui.colorize_selected()
    progress = gui.run_to_end(lambda: gui.tab.export_items([item.item_id], ExportOptions(folder=tmp_path)))
    assert progress.failed == {}
    assert (tmp_path / "Pasted 1_colorized.png").is_file()


def test_paste_file_paths(gui, tmp_path):
    photos = [save_grayscale(source, tmp_path / f"copied {source.name}") for source in real_photos()[:2]]
    QGuiApplication.clipboard().setText("\n".join(str(path) for path in photos) + "\n/no/such/file.jpg\n")

    with gui.qtbot.waitSignal(gui.tab.photos_added, timeout=OPEN_TIMEOUT_MS) as blocker:
        gui.tab.paste()

    assert [item.path for item in blocker.args[0]] == photos


def test_paste_copied_files(gui, tmp_path):
    photo = save_grayscale(real_photos()[2], tmp_path / "copied in the file manager.jpg")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    QGuiApplication.clipboard().setMimeData(mime)

    with gui.qtbot.waitSignal(gui.tab.photos_added, timeout=OPEN_TIMEOUT_MS) as blocker:
        gui.tab.paste()

    assert [item.path for item in blocker.args[0]] == [photo]


def test_paste_without_image_says_so(gui):
    QGuiApplication.clipboard().setText("just some words")

    gui.tab.paste()

    assert "Nothing to paste" in gui.window.statusBar().currentMessage()
    assert len(gui.tab.queue) == 0


def test_thumbnails_made_in_worker(gui, tmp_path, monkeypatch):
    threads = []
    original = intake.load_preview

    def recording_load_preview(*args):
        threads.append(threading.get_ident())
        return original(*args)

    monkeypatch.setattr(intake, "load_preview", recording_load_preview)
    photos = [save_grayscale(source, tmp_path / source.name) for source in real_photos()[:2]]

    gui.drop_and_wait(photos)
    gui.wait_until_read()

    assert len(threads) == 2
    assert threading.get_ident() not in threads
    for item in gui.tab.queue.items():
        assert gui.tab.queue_model.thumbnail(item.item_id).width() <= 96


def test_dropping_same_photo_twice(gui, gray_photo):
    gui.drop_and_wait([gray_photo])

    added = gui.drop_and_wait([gray_photo])

    assert added == []
    assert len(gui.tab.queue) == 1
    assert "Already in the queue: family_scan.jpg" in gui.window.statusBar().currentMessage()
