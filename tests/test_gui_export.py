"""Exporting through the export dialog: formats and metadata, batch export, cancel, no overwrites."""

from __future__ import annotations

from pathlib import Path

import pytest
import tifffile
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from colorapp import settings as setting_keys
from colorapp.photo_queue import ItemStatus
from tests.helpers import mean_chroma, real_photos, save_grayscale, sha256

pytestmark = pytest.mark.usefixtures("no_leftover_threads")

EXPORT_TIMEOUT_MS = 180_000
ORIENTATION_TAG = 0x0112
MAKE_TAG = 0x010F


@pytest.fixture
def rotated_scan(tmp_path) -> Path:
    """A gray scan at 300 dpi with EXIF orientation 6 (rotate 90° clockwise)."""
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6
    exif[MAKE_TAG] = "Epson"
    path = tmp_path / "scans" / "uncle joe.jpg"
    path.parent.mkdir()
    with Image.open(real_photos()[0]) as source:
        source.convert("L").save(path, exif=exif.tobytes(), dpi=(300, 300))
    return path


@pytest.fixture
def three_scans(tmp_path) -> list[Path]:
    folder = tmp_path / "box"
    folder.mkdir()
    return [save_grayscale(source, folder / f"scan {number}.jpg") for number, source in enumerate(real_photos()[:3])]


def _submit_dialog(gui, dialog, folder: Path):
    """Point the dialog at ``folder``, click Export and wait until the run ends."""
    dialog.folder_edit.setText(str(folder))
    assert dialog.ok_button.isEnabled()
    with gui.qtbot.waitSignal(gui.tab.run_finished, timeout=EXPORT_TIMEOUT_MS) as blocker:
        gui.qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def _all_entries(folder: Path) -> list[str]:
    """Every name in the folder, hidden and temporary files included."""
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize(
    "fmt, bit_depth, suffix",
    [("png", 8, ".png"), ("png", 16, ".png"), ("jpeg", 8, ".jpg"), ("tiff", 8, ".tif"), ("tiff", 16, ".tif"),
     ("webp", 8, ".webp")],
)
def test_export_format_and_metadata(gui, rotated_scan, tmp_path, fmt, bit_depth, suffix):
    out = tmp_path / "out"
    out.mkdir()
    photo = gui.open_and_show(rotated_scan)
    # EXIF orientation 6 turns the stored landscape into a portrait photo.
    with Image.open(rotated_scan) as stored:
        assert photo.size == (stored.height, stored.width)
    gui.colorize_selected()

    gui.tab.export_action.trigger()
    dialog = gui.tab.export_dialog
    dialog.set_format(fmt, bit_depth)
    assert dialog.preview_name() == f"uncle joe_colorized{suffix}"
    progress = _submit_dialog(gui, dialog, out)

    assert progress.failed == {}
    exported = out / f"uncle joe_colorized{suffix}"
    assert _all_entries(out) == [exported.name]
    with Image.open(exported) as image:
        assert image.size == photo.size
        assert image.mode == "RGB"
        exif = image.getexif()
        assert exif.get(ORIENTATION_TAG) == 1
        assert exif.get(MAKE_TAG) == "Epson"
        if fmt != "webp":
            assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    if fmt == "tiff":
        pixels = tifffile.imread(exported)
        assert pixels.shape == (photo.size[1], photo.size[0], 3)
        assert pixels.dtype == ("uint16" if bit_depth == 16 else "uint8")
    if fmt == "png":
        # The IHDR chunk's bit depth byte, because Pillow reads 16-bit RGB as 8-bit.
        assert exported.read_bytes()[24] == bit_depth
    assert mean_chroma(exported) > 1.0


def test_export_all_colorizes_missing_results(gui, three_scans, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    gui.drop_and_wait(three_scans)
    gui.wait_until_read()
    gui.run_to_end(gui.tab.colorize)
    gui.tab.export_all_action.trigger()
    dialog = gui.tab.export_dialog
    assert dialog.windowTitle() == "Export 3 Photos"
    dialog.set_format("jpeg")
    dialog.quality_spin.setValue(80)

    progress = _submit_dialog(gui, dialog, out)

    assert progress.failed == {}
    assert len(progress.succeeded) == 3
    assert _all_entries(out) == [f"scan {number}_colorized.jpg" for number in range(3)]
    for item in gui.tab.queue.items():
        assert item.status is ItemStatus.EXPORTED
        assert item.has_result
    assert gui.tab.export_progress is None


def test_export_all_cancel_after_first(gui, three_scans, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    gui.drop_and_wait(three_scans)
    gui.wait_until_read()
    gui.tab.export_all_action.trigger()
    dialog = gui.tab.export_dialog
    written = []

    def cancel_after_first(path):
        written.append(path)
        if len(written) == 1:
            progress_dialog = gui.tab.export_progress
            assert progress_dialog.isVisible()
            assert "Exporting" in progress_dialog.labelText()
            cancel_button = progress_dialog.findChild(QPushButton)
            gui.qtbot.mouseClick(cancel_button, Qt.MouseButton.LeftButton)

    gui.tab.export_finished.connect(cancel_after_first)
    progress = _submit_dialog(gui, dialog, out)

    assert len(progress.succeeded) == 1
    assert len(progress.cancelled) == 2
    assert progress.failed == {}
    assert written == [out / "scan 0_colorized.png"]
    # Nothing else was written, not even a partial or temporary file.
    assert _all_entries(out) == ["scan 0_colorized.png"]
    statuses = [item.status for item in gui.tab.queue.items()]
    assert statuses == [ItemStatus.EXPORTED, ItemStatus.WAITING, ItemStatus.WAITING]
    assert "1 photo; 2 cancelled" in gui.window.statusBar().currentMessage()
    assert gui.tab.export_progress is None
    assert gui.tab.export_all_action.isEnabled()


def test_export_rerun_never_overwrites(gui, three_scans, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    gui.drop_and_wait(three_scans)
    gui.wait_until_read()
    gui.tab.export_all_action.trigger()
    _submit_dialog(gui, gui.tab.export_dialog, out)
    first_run = {path.name: sha256(path) for path in out.iterdir()}

    gui.tab.export_all_action.trigger()
    # The dialog remembers the folder of the last export.
    assert gui.tab.export_dialog.folder_edit.text() == str(out)
    progress = _submit_dialog(gui, gui.tab.export_dialog, out)

    assert progress.failed == {}
    expected = [f"scan {number}_colorized.png" for number in range(3)]
    expected += [f"scan {number}_colorized_2.png" for number in range(3)]
    assert _all_entries(out) == sorted(expected)
    assert {name: sha256(out / name) for name in first_run} == first_run
    assert all(path.exists() for path in three_scans)


def test_export_dialog_validates_choices(gui, gray_photo, tmp_path):
    gui.open_and_show(gray_photo)
    gui.colorize_selected()
    dialog = gui.tab.export_with_dialog()

    dialog.folder_edit.setText(str(tmp_path))
    dialog.set_format("png")
    assert dialog.preview_name() == "family_scan_colorized.png"
    assert not dialog.quality_spin.isEnabled()
    assert dialog.bit_depth_combo.isEnabled()
    dialog.set_format("webp")
    assert dialog.quality_spin.isEnabled()
    assert not dialog.bit_depth_combo.isEnabled()
    assert dialog.ok_button.isEnabled()

    dialog.template_edit.setText("{name} by {model} on {date}")
    assert dialog.preview_name().startswith("family_scan by pix2pix on 2")
    dialog.template_edit.setText("{name}_{colour}")
    assert dialog.preview_name() is None
    assert "unknown field" in dialog.preview_label.text()
    assert not dialog.ok_button.isEnabled()

    dialog.template_edit.setText("{name}_colorized")
    dialog.folder_edit.setText(str(tmp_path / "missing"))
    assert "does not exist" in dialog.folder_status_label.text()
    assert not dialog.ok_button.isEnabled()
    dialog.reject()
    assert gui.tab.export_dialog is None


def test_export_choices_remembered(gui, gray_photo, tmp_path):
    gui.open_and_show(gray_photo)
    gui.colorize_selected()
    dialog = gui.tab.export_with_dialog()
    dialog.set_format("tiff", 16)
    dialog.template_edit.setText("{name} ({model})")
    _submit_dialog(gui, dialog, tmp_path)

    assert (tmp_path / "family_scan (pix2pix).tif").is_file()
    settings = gui.window.settings
    assert settings.get(setting_keys.EXPORT_FORMAT) == "tiff"
    assert settings.get(setting_keys.EXPORT_BIT_DEPTH) == 16
    assert settings.get(setting_keys.EXPORT_NAME_TEMPLATE) == "{name} ({model})"
    again = gui.tab.export_with_dialog()
    assert again.options().fmt == "tiff"
    assert again.options().bit_depth == 16
    assert again.options().folder == tmp_path
    assert again.options().name_template == "{name} ({model})"
    again.reject()
