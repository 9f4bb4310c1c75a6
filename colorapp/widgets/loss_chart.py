"""Live loss curves: one small QtCharts chart per loss term, plus the validation error.

Loss terms differ by orders of magnitude (the generator's total includes 100 x L1,
the discriminator's BCE stays near 0.5), so each term gets its own chart and its own
y axis instead of sharing one. Each chart shows the raw values, averaged down to at
most ``MAX_POINTS``, and their smoothed curve.
"""

from __future__ import annotations

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from colorapp.training_runs import LOSS_LABELS, LossHistory, loss_label

MAX_POINTS = 400
"""Points drawn per curve; longer runs are averaged over equal step ranges."""
COLUMNS = 2
CHART_MIN_HEIGHT = 150

_RAW_COLOR = QColor(120, 160, 220)
_SMOOTH_COLOR = QColor(20, 80, 170)
_BASE_COLOR = QColor(200, 90, 40)


def _axis_range(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high - low < 1e-9:
        pad = max(abs(high) * 0.05, 1e-3)
    else:
        pad = (high - low) * 0.08
    return low - pad, high + pad


class _TermChart:
    """One chart: a title, a step axis, a value axis and up to three series."""

    def __init__(self, title: str, parent: QWidget) -> None:
        self.chart = QChart()
        self.chart.setTitle(title)
        self.chart.legend().hide()
        self.chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.chart.setMargins(QMargins(2, 2, 2, 2))
        self.chart.setBackgroundRoundness(0)
        palette = parent.palette()
        dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
        if dark:
            self.chart.setTheme(QChart.ChartTheme.ChartThemeDark)
        self.chart.setBackgroundBrush(palette.color(QPalette.ColorRole.Base))
        self.chart.setTitleBrush(palette.color(QPalette.ColorRole.Text))
        font = self.chart.titleFont()
        font.setBold(True)
        self.chart.setTitleFont(font)

        self.x_axis = QValueAxis()
        self.x_axis.setLabelFormat("%d")
        self.x_axis.setTitleText("step")
        self.y_axis = QValueAxis()
        self.y_axis.setLabelFormat("%.3g")
        for axis in (self.x_axis, self.y_axis):
            axis.setLabelsBrush(palette.color(QPalette.ColorRole.Text))
            axis.setTitleBrush(palette.color(QPalette.ColorRole.Text))
            axis.setTickCount(4)
        self.chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)

        self.raw = self._add_series(QLineSeries(), QPen(_RAW_COLOR, 1))
        self.smoothed = self._add_series(QLineSeries(), QPen(_SMOOTH_COLOR, 2))
        self.markers: QScatterSeries | None = None
        self.reference: QLineSeries | None = None

        self.view = QChartView(self.chart, parent)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumHeight(CHART_MIN_HEIGHT)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.view.setAccessibleName(title)

    def add_markers_and_reference(self, name: str, reference_name: str) -> None:
        """Draw the raw series as a line with dots, add a dashed horizontal reference line and a legend."""
        self.raw.setPen(QPen(_SMOOTH_COLOR, 2))
        self.raw.setName(name)
        self.markers = QScatterSeries()
        self.markers.setMarkerSize(6)
        self.markers.setColor(_SMOOTH_COLOR)
        self.markers.setBorderColor(_SMOOTH_COLOR)
        self._add_series(self.markers, QPen(_SMOOTH_COLOR))
        self.reference = self._add_series(QLineSeries(), QPen(_BASE_COLOR, 1.5, Qt.PenStyle.DashLine))
        self.reference.setName(reference_name)
        legend = self.chart.legend()
        legend.setAlignment(Qt.AlignmentFlag.AlignBottom)
        legend.setLabelColor(self.chart.titleBrush().color())
        for series in (self.smoothed, self.markers):
            for marker in legend.markers(series):
                marker.setVisible(False)
        legend.show()

    def _add_series(self, series, pen: QPen):
        series.setPen(pen)
        self.chart.addSeries(series)
        series.attachAxis(self.x_axis)
        series.attachAxis(self.y_axis)
        return series

    def show_points(self, raw: list[tuple[float, float]], smoothed: list[tuple[float, float]],
                    extra_values: tuple[float, ...] = ()) -> None:
        self.raw.replace([QPointF(x, y) for x, y in raw])
        self.smoothed.replace([QPointF(x, y) for x, y in smoothed])
        if not raw:
            return
        steps = [x for x, _ in raw]
        first, last = min(steps), max(steps)
        self.x_axis.setRange(first, last if last > first else first + 1)
        self.x_axis.applyNiceNumbers()
        self.y_axis.setRange(*_axis_range([y for _, y in raw] + list(extra_values)))


class LossChart(QWidget):
    """Charts of a :class:`LossHistory`; call :meth:`refresh` after it changed."""

    EMPTY_TEXT = "Loss curves appear here after the first training step."
    VALIDATION_TITLE = "Validation ab error"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._charts: dict[str, _TermChart] = {}
        self._validation: _TermChart | None = None
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.empty_label = QLabel(self.EMPTY_TEXT, self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self._layout.addWidget(self.empty_label, 0, 0, 1, COLUMNS)

    def chart_titles(self) -> list[str]:
        """Return the titles of the charts shown, in layout order."""
        return [chart.chart.title() for chart in self._ordered_charts()]

    def series_points(self, title: str) -> list[tuple[float, float]]:
        """Return the raw points drawn in the chart with this title."""
        for chart in [*self._charts.values(), self._validation]:
            if chart is not None and chart.chart.title() == title:
                return [(point.x(), point.y()) for point in chart.raw.points()]
        raise KeyError(title)

    def clear(self) -> None:
        """Remove every chart, for a new run."""
        for chart in [*self._charts.values(), self._validation]:
            if chart is not None:
                self._layout.removeWidget(chart.view)
                chart.view.deleteLater()
        self._charts.clear()
        self._validation = None
        self.empty_label.show()

    def refresh(self, history: LossHistory) -> None:
        """Redraw every curve from ``history``, adding a chart for each new term."""
        for name in history.names():
            chart = self._charts.get(name)
            if chart is None:
                chart = self._charts[name] = _TermChart(loss_label(name), self)
                self._relayout()
            chart.show_points(
                history.points(name, MAX_POINTS), history.points(name, MAX_POINTS, smoothed=True)
            )
        if history.validation_steps:
            self._show_validation(history)
        self.empty_label.setVisible(not self._charts)

    def _show_validation(self, history: LossHistory) -> None:
        if self._validation is None:
            self._validation = _TermChart(self.VALIDATION_TITLE, self)
            self._validation.add_markers_and_reference("this run", "base model")
            self._validation.view.setToolTip(
                "Mean absolute error of the predicted a* and b* on the held-out photos; "
                "lower is better. The dashed line is the base model before training."
            )
            self._relayout()
        chart = self._validation
        points = list(zip(map(float, history.validation_steps), history.validation_error))
        extra = (history.base_error,) if history.base_error is not None else ()
        chart.show_points(points, [], extra)
        chart.markers.replace([QPointF(x, y) for x, y in points])
        if history.base_error is not None:
            low, high = chart.x_axis.min(), chart.x_axis.max()
            chart.reference.replace([QPointF(low, history.base_error), QPointF(high, history.base_error)])

    def _ordered_charts(self) -> list[_TermChart]:
        # The total first, then its terms, then the discriminator's; the validation chart last.
        order = list(LOSS_LABELS)
        names = sorted(self._charts, key=lambda name: order.index(name) if name in order else len(order))
        charts = [self._charts[name] for name in names]
        if self._validation is not None:
            charts.append(self._validation)
        return charts

    def _relayout(self) -> None:
        charts = self._ordered_charts()
        for chart in charts:
            self._layout.removeWidget(chart.view)
        for index, chart in enumerate(charts):
            self._layout.addWidget(chart.view, 1 + index // COLUMNS, index % COLUMNS)
        # Equal stretch keeps every chart the same size, whatever its labels need.
        for column in range(COLUMNS):
            self._layout.setColumnStretch(column, 1)
        for row in range(1, 2 + (len(charts) - 1) // COLUMNS):
            self._layout.setRowStretch(row, 1)
