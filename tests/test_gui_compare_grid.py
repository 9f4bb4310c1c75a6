"""The compare grid: several models on one photo, zoomed and panned together."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from colorapp.widgets.compare_grid import MAX_COMPARE_MODELS, choose_compare_models
from engine.catalog import ModelCatalog
from tests.conftest import COLORIZE_TIMEOUT_MS

pytestmark = pytest.mark.usefixtures("no_leftover_threads")


def _wheel(widget, position: QPointF, notches: int) -> None:
    event = QWheelEvent(
        position, widget.mapToGlobal(position), QPoint(0, 0), QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )
    QApplication.sendEvent(widget, event)


@pytest.fixture
def grid(gui, gray_photo, untrained_user_models):
    """The compare grid of the gray photo with the shipped models and user models, up to its limit, all filled in."""
    gui.tab.reload_models()
    photo = gui.open_and_show(gray_photo)
    with gui.qtbot.waitSignal(gui.tab.compare_finished, timeout=COLORIZE_TIMEOUT_MS):
        gui.tab.compare_action.trigger()
    dialog = gui.tab.compare_dialog
    gui.qtbot.waitExposed(dialog)
    return dialog, photo


def test_grid_shows_each_model(grid, untrained_user_models):
    dialog, photo = grid

    assert [pane.title() for pane in dialog.panes()][0] == "Original"
    shipped = [entry.key for entry in ModelCatalog().entries() if entry.shipped]
    assert list(dialog.model_panes) == [*shipped, *untrained_user_models][:MAX_COMPARE_MODELS]
    for pane in dialog.model_panes.values():
        assert pane.image() is not None
        assert (pane.image().width(), pane.image().height()) == photo.size
        assert " s on " in pane.caption()


def test_zooming_one_pane_zooms_all(grid, qtbot):
    dialog, _photo = grid
    panes = dialog.panes()
    target = panes[2]
    position = QPointF(target.width() * 0.3, target.height() * 0.6)
    before = target.map_to_image(position)

    _wheel(target, position, notches=3)

    after = target.map_to_image(position)
    assert after.x() == pytest.approx(before.x(), abs=1e-6)
    assert after.y() == pytest.approx(before.y(), abs=1e-6)
    scales = {round(pane.scale(), 9) for pane in panes}
    assert len(scales) == 1
    assert scales.pop() > panes[0].viewport_state.fit_scale(panes[0].view_size())
    # Every pane shows the same image point at its center.
    centers = [pane.map_to_image(QPointF(pane.width() / 2, pane.height() / 2)) for pane in panes]
    for center in centers[1:]:
        assert center.x() == pytest.approx(centers[0].x())
        assert center.y() == pytest.approx(centers[0].y())
    assert dialog.zoom_label.text() == f"{round(panes[0].scale() * 100)} %"


def test_panning_one_pane_pans_all(grid, qtbot):
    dialog, _photo = grid
    panes = dialog.panes()
    panes[0].zoom_in()
    panes[0].zoom_in()
    origins = [pane.image_rectf().topLeft() for pane in panes]
    start = QPoint(panes[3].width() // 2, panes[3].height() // 2)

    qtbot.mousePress(panes[3], Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(panes[3], pos=start + QPoint(-25, 15))
    qtbot.mouseRelease(panes[3], Qt.MouseButton.LeftButton, pos=start + QPoint(-25, 15))

    for pane, origin in zip(panes, origins):
        moved = pane.image_rectf().topLeft() - origin
        assert moved.x() == pytest.approx(-25)
        assert moved.y() == pytest.approx(15)

    qtbot.mouseClick(dialog.fit_button, Qt.MouseButton.LeftButton)
    assert all(pane.viewport_state.is_fit for pane in panes)


def test_closing_grid_cancels_its_work(gui, gray_photo, untrained_user_models):
    gui.tab.reload_models()
    gui.open_and_show(gray_photo)
    dialog = gui.tab.compare_models()
    assert dialog is not None

    dialog.close()

    assert gui.tab.compare_dialog is None
    gui.qtbot.waitUntil(lambda: not gui.window.worker.is_busy(), timeout=COLORIZE_TIMEOUT_MS)


def test_choose_compare_models_order(main_window, untrained_user_models):
    main_window.colorize_tab.reload_models()
    entries = main_window.colorize_tab.panel.model_picker.entries()
    by_key = {entry.key: entry for entry in entries}

    chosen = choose_compare_models(entries, by_key[untrained_user_models[1]])
    shipped = [entry.key for entry in entries if entry.shipped]
    expected = [*shipped, untrained_user_models[1], untrained_user_models[0]][:MAX_COMPARE_MODELS]
    assert [entry.key for entry in chosen] == expected
    # Beside the shipped models there is room for the current user model.
    assert untrained_user_models[1] in [entry.key for entry in chosen]

    extra = [dataclasses.replace(by_key[untrained_user_models[0]], key=f"user:extra{number}") for number in range(4)]
    assert len(choose_compare_models(entries + extra, None)) == MAX_COMPARE_MODELS
