"""The photo queue on screen: a list model that mirrors ``PhotoQueue`` and its row painter."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from colorapp.photo_queue import ItemStatus, PhotoQueue, QueueItem

ITEM_ID_ROLE = Qt.ItemDataRole.UserRole + 1
"""Model role of the QueueItem id (int)."""
ITEM_ROLE = Qt.ItemDataRole.UserRole + 2
"""Model role of the QueueItem itself."""

_ROW_HEIGHT = 72
_THUMBNAIL_SIDE = 60
_PADDING = 6
_FAILED_COLOR = QColor(205, 60, 50)
_DONE_COLOR = QColor(40, 140, 70)


class QueueModel(QAbstractListModel):
    """One row per queue photo, in queue order, with its thumbnail.

    The rows follow ``PhotoQueue`` events. Thumbnails are kept here because they
    are Qt pixmaps.
    """

    def __init__(self, queue: PhotoQueue, parent=None) -> None:
        super().__init__(parent)
        self._queue = queue
        self._ids: list[int] = [item.item_id for item in queue.items()]
        self._thumbnails: dict[int, QPixmap] = {}
        queue.inserted.subscribe(self._on_inserted)
        queue.removed.subscribe(self._on_removed)
        queue.changed.subscribe(self._on_changed)
        queue.cleared.subscribe(self._on_cleared)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def index_of(self, item_id: int) -> QModelIndex:
        """Return the model index of an item, or an invalid index when it is not queued."""
        try:
            return self.index(self._ids.index(item_id))
        except ValueError:
            return QModelIndex()

    def thumbnail(self, item_id: int) -> QPixmap | None:
        return self._thumbnails.get(item_id)

    def set_thumbnail(self, item_id: int, image: QImage) -> None:
        """Show ``image`` as the row's thumbnail. Call it in the UI thread."""
        if item_id not in self._ids:
            return
        self._thumbnails[item_id] = QPixmap.fromImage(image)
        index = self.index_of(item_id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        item = self._queue.get(self._ids[index.row()])
        if item is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{item.name}\n{item.size_text()}\n{item.status_text()}"
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{item.path}\n{item.size_text()}\n{item.status_text()}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnails.get(item.item_id)
        if role == ITEM_ID_ROLE:
            return item.item_id
        if role == ITEM_ROLE:
            return item
        return None

    def _on_inserted(self, first_row: int, items: list[QueueItem]) -> None:
        self.beginInsertRows(QModelIndex(), first_row, first_row + len(items) - 1)
        self._ids[first_row:first_row] = [item.item_id for item in items]
        self.endInsertRows()

    def _on_removed(self, row: int, item: QueueItem) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._ids[row]
        self._thumbnails.pop(item.item_id, None)
        self.endRemoveRows()

    def _on_changed(self, row: int, _item: QueueItem) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def _on_cleared(self) -> None:
        self.beginResetModel()
        self._ids.clear()
        self._thumbnails.clear()
        self.endResetModel()


class QueueItemDelegate(QStyledItemDelegate):
    """Paints a row as a thumbnail beside three lines: name, pixel size and status."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(option.rect.width() or 240, _ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        item: QueueItem | None = index.data(ITEM_ROLE)
        if item is None:
            super().paint(painter, option, index)
            return
        widget = option.widget
        style = widget.style() if widget is not None else None
        self.initStyleOption(option, index)
        # Draws the selection and hover background only, because the text is painted below.
        option.text = ""
        option.icon = QIcon()
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)

        painter.save()
        rect = option.rect
        thumbnail_box = QRect(rect.left() + _PADDING, rect.top() + (rect.height() - _THUMBNAIL_SIDE) // 2,
                              _THUMBNAIL_SIDE, _THUMBNAIL_SIDE)
        self._paint_thumbnail(painter, thumbnail_box, index.data(Qt.ItemDataRole.DecorationRole), item, style)

        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_group = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text_color = option.palette.color(text_group)
        text_left = thumbnail_box.right() + _PADDING + 2
        text_width = max(rect.right() - _PADDING - text_left, 10)

        name_font = QFont(option.font)
        name_font.setBold(True)
        small_font = QFont(option.font)
        line_height = QFontMetrics(option.font).height()
        top = rect.top() + (rect.height() - 3 * line_height) // 2

        lines = (
            (name_font, text_color, item.name),
            (small_font, _secondary(text_color), item.size_text()),
            (small_font, self._status_color(item, text_color, selected), item.status_text()),
        )
        for number, (font, color, text) in enumerate(lines):
            painter.setFont(font)
            painter.setPen(color)
            elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, text_width)
            line_rect = QRect(text_left, top + number * line_height, text_width, line_height)
            painter.drawText(line_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
        painter.restore()

    @staticmethod
    def _paint_thumbnail(painter: QPainter, box: QRect, pixmap: QPixmap | None, item: QueueItem, style) -> None:
        if pixmap is not None and not pixmap.isNull():
            size = pixmap.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(target, pixmap)
            return
        painter.fillRect(box, QColor(128, 128, 128, 60))
        if item.status is ItemStatus.FAILED and style is not None:
            icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            icon.paint(painter, box.adjusted(14, 14, -14, -14))

    @staticmethod
    def _status_color(item: QueueItem, text_color: QColor, selected: bool) -> QColor:
        if selected:
            return text_color
        if item.status is ItemStatus.FAILED:
            return _FAILED_COLOR
        if item.status in (ItemStatus.DONE, ItemStatus.EXPORTED):
            return _DONE_COLOR
        return _secondary(text_color)


def _secondary(color: QColor) -> QColor:
    lighter = QColor(color)
    lighter.setAlphaF(0.7)
    return lighter


class QueuePanel(QWidget):
    """The queue list with Add, Remove and Clear buttons, showing the rows of a ``QueueModel``."""

    current_item_changed = Signal(object)
    """The id (int) of the newly current row, or None when no row is current."""

    def __init__(self, model: QueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model

        self.title_label = QLabel(self)
        self.list_view = QListView(self)
        self.list_view.setModel(model)
        self.list_view.setItemDelegate(QueueItemDelegate(self.list_view))
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setAccessibleName("Photo queue")
        self.list_view.setMinimumWidth(200)

        self.add_button = QPushButton("Add…", self)
        self.remove_button = QPushButton("Remove", self)
        self.clear_button = QPushButton("Clear", self)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.clear_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.list_view, 1)
        layout.addLayout(buttons)

        self.list_view.selectionModel().currentChanged.connect(self._on_current_changed)
        model.rowsInserted.connect(self._update_title)
        model.rowsRemoved.connect(self._update_title)
        model.modelReset.connect(self._update_title)
        self._update_title()

    def current_item_id(self) -> int | None:
        index = self.list_view.currentIndex()
        return index.data(ITEM_ID_ROLE) if index.isValid() else None

    def selected_item_ids(self) -> list[int]:
        """Return the ids of the selected rows in queue order, or of the current row when none is selected."""
        rows = sorted(index.row() for index in self.list_view.selectionModel().selectedRows())
        ids = [self.model.index(row).data(ITEM_ID_ROLE) for row in rows]
        if not ids and self.current_item_id() is not None:
            ids = [self.current_item_id()]
        return ids

    def select_item(self, item_id: int) -> bool:
        """Make an item the current and only selected row. Return False if it is not queued."""
        index = self.model.index_of(item_id)
        if not index.isValid():
            return False
        self.list_view.setCurrentIndex(index)
        self.list_view.scrollTo(index)
        return True

    def select_row(self, row: int) -> bool:
        if not 0 <= row < self.model.rowCount():
            return False
        self.list_view.setCurrentIndex(self.model.index(row))
        return True

    def move_current(self, step: int) -> bool:
        """Make the row ``step`` rows away current. Return False past either end of the queue."""
        count = self.model.rowCount()
        if count == 0:
            return False
        current = self.list_view.currentIndex()
        if current.isValid():
            row = current.row() + step
        elif step > 0:
            row = 0
        else:
            row = count - 1
        return self.select_row(row)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_item_changed.emit(current.data(ITEM_ID_ROLE) if current.isValid() else None)

    def _update_title(self) -> None:
        count = self.model.rowCount()
        self.title_label.setText("Queue: empty" if count == 0 else f"Queue: {count} photo{'s' if count != 1 else ''}")
        self.remove_button.setEnabled(count > 0)
        self.clear_button.setEnabled(count > 0)
