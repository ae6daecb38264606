"""Training curves: validation accuracy and loss over steps (RT-Grasp Fig. 7 layout)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_training_curves(
    validation: Sequence[tuple[int, float]],
    losses: Sequence[tuple[int, float]],
    out: str | Path,
    title: str = "RT-Grasp training",
) -> Path:
    """Validation accuracy (%) and training loss against the step; saved as a PNG."""
    fig, acc_ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    if validation:
        steps, acc = zip(*validation, strict=True)
        acc_ax.plot(
            steps, [100 * a for a in acc], "o-", color="tab:blue", label="validation accuracy"
        )
    acc_ax.set_xlabel("training step")
    acc_ax.set_ylabel("validation accuracy (%)", color="tab:blue")
    acc_ax.set_ylim(0, 100)
    acc_ax.grid(alpha=0.3)
    if losses:
        loss_ax = acc_ax.twinx()
        steps, loss = zip(*losses, strict=True)
        loss_ax.plot(steps, loss, color="tab:orange", alpha=0.7, label="training loss")
        loss_ax.set_ylabel("training loss", color="tab:orange")
        loss_ax.set_yscale("log")
    acc_ax.set_title(title)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
