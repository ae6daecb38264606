"""Readable tables of evaluation results, including the paper's Table I layout."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rt_grasp_ros.eval.scoring import EvaluationReport

FORMAT_ROWS = {
    "no-reasoning-a": "No Reasoning-A",
    "no-reasoning-b": "No Reasoning-B",
    "rt": "Ours (RT-Grasp)",
}
SPLIT_COLUMNS = {"image": "Image-wise (IW)", "object": "Object-wise (OW)"}


def _pct(value: float) -> str:
    return f"{100 * value:.2f}"


def cell(report: EvaluationReport) -> str:
    """``mean±std`` over folds when folds were scored, else the plain accuracy, in percent."""
    stats = report.fold_mean_std()
    if stats:
        return f"{_pct(stats[0])}±{_pct(stats[1])}"
    return _pct(report.accuracy)


def print_report(
    report: EvaluationReport, console: Console, title: str = "Rectangle metric"
) -> None:
    """Summary, per-fold and per-category tables."""
    summary = Table(title=escape(title), show_header=False)
    summary.add_row("accuracy", f"{_pct(report.accuracy)} %  ({report.correct}/{report.total})")
    summary.add_row("wrong pose", str(report.count("wrong")))
    summary.add_row("unparsable answers", str(report.count("unparsable")))
    summary.add_row("missing answers", str(report.count("missing")))
    if report.unknown_ids:
        summary.add_row(
            "answers for unknown ids",
            escape(f"{len(report.unknown_ids)} (e.g. {report.unknown_ids[0]})"),
        )
    console.print(summary)
    if report.folds:
        folds = Table(title="Folds")
        for name in ("fold", "accuracy %", "correct", "total"):
            folds.add_column(name, justify="right")
        for f in report.folds:
            folds.add_row(str(f.fold), _pct(f.accuracy), str(f.correct), str(f.total))
        mean, std = report.fold_mean_std() or (0.0, 0.0)
        folds.add_row("mean±std", f"{_pct(mean)}±{_pct(std)}", "", "")
        console.print(folds)
    categories = report.per_category()
    if categories:
        table = Table(title="Per category")
        for name in ("category", "accuracy %", "correct", "total"):
            table.add_column(name, justify="right" if name != "category" else "left")
        for name, (c, t) in categories.items():
            table.add_row(name, _pct(c / t), str(c), str(t))
        console.print(table)
    failures = [r for r in report.results if r.status == "unparsable"][:5]
    for r in failures:
        console.print(f"[yellow]unparsable[/] {escape(r.id)}: {escape(r.error or '')}")


def print_table_one(reports: Sequence[EvaluationReport], console: Console) -> None:
    """Rows: answer formats; columns: image-wise / object-wise (Table I of RT-Grasp)."""
    cells: dict[tuple[str, str], str] = {}
    for report in reports:
        fmt = str(report.label.get("format", "?"))
        split = str(report.label.get("split", "?"))
        cells[(fmt, split)] = cell(report)
    formats = [f for f in FORMAT_ROWS if any(k[0] == f for k in cells)]
    formats += sorted({k[0] for k in cells} - set(formats))
    splits = [s for s in SPLIT_COLUMNS if any(k[1] == s for k in cells)]
    splits += sorted({k[1] for k in cells} - set(splits))
    table = Table(title="Grasp accuracy (%), mean±std over folds")
    table.add_column("Method")
    for s in splits:
        table.add_column(SPLIT_COLUMNS.get(s, s), justify="right")
    for f in formats:
        table.add_row(FORMAT_ROWS.get(f, f), *(cells.get((f, s), "-") for s in splits))
    console.print(table)
