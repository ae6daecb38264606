"""A sequence of simulated trials with or without test-time adaptation, on the same seeds.

Each trial shows the model a scene of ``category`` (seeds from ``seed`` on), decodes its answer
to the pose prompt greedily, executes the contact (AIA) and, with adaptation on, takes the
:class:`~rt_grasp_ros.manip.tta.TrialAdapter` steps on the outcome before the next trial.
Success is initial movement (``INITIAL_DELTA``, > 0.01: the paper's Table 1 threshold); a
contact off the moving part fails and, as in the real world, teaches ``no`` about that pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rt_grasp_ros.errors import AnswerParseError, ConfigError
from rt_grasp_ros.manip.evaluate import EVAL_SEED
from rt_grasp_ros.manip.scene import manip_scene
from rt_grasp_ros.manip.tasks import chain_of_thought, load_task_formats
from rt_grasp_ros.manip.trial import (
    INITIAL_DELTA,
    OFF_PART,
    PullConfig,
    execute_contact,
    on_movable_part,
)
from rt_grasp_ros.manip.tta import TrialAdapter, TrialOutcome, TTAConfig, greedy_contact
from rt_grasp_ros.sim.articulated import CATEGORIES
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.world import World


@dataclass(frozen=True)
class SequenceConfig:
    """A trial sequence.

    Attributes:
        category: the object category (a shift: one the model did not train on).
        trials: how many trials, one scene seed each.
        seed: the first scene seed.
        adapt: adapt after each trial (TTA) or not (the baseline on the same seeds).
        tta: the adaptation's steps and learning rate.
    """

    category: str
    trials: int = 20
    seed: int = EVAL_SEED
    adapt: bool = True
    tta: TTAConfig = field(default_factory=TTAConfig)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ConfigError(f"SequenceConfig.category: unknown {self.category!r}")
        if self.trials < 1:
            raise ConfigError(f"SequenceConfig.trials must be >= 1, got {self.trials}")


def run_sequence(checkpoint: str | Path, out: str | Path, config: SequenceConfig) -> dict:
    """Run the trials in order; the summary (success ratio) and every trial's record.

    With ``config.adapt`` the adapted vision LoRA and its history are saved to ``out``.
    """
    adapter = TrialAdapter.from_checkpoint(checkpoint, out, config.tta)
    question = chain_of_thought(load_task_formats(), config.category)[2]
    records = []
    for k in range(config.trials):
        record, outcome = _trial(adapter, config.category, config.seed + k, question)
        if config.adapt and outcome is not None:
            record["tta"] = adapter.adapt(outcome)
        records.append(record)
    if config.adapt:
        adapter.save()
    successes = sum(r["success"] for r in records)
    return {
        "category": config.category,
        "adapt": config.adapt,
        "trials": len(records),
        "successes": successes,
        "success_ratio": successes / len(records),
        "on_part": sum(r["failure"] != OFF_PART and "pixel" in r for r in records),
        "records": records,
    }


def _trial(
    adapter: TrialAdapter, category: str, seed: int, question: str
) -> tuple[dict[str, Any], TrialOutcome | None]:
    record: dict[str, Any] = {"seed": seed, "success": False, "failure": None, "delta": 0.0}
    with World(manip_scene(seed, category)) as world:
        robot = SimRobot(world)
        robot.wait(0.3)
        frame = world.render(segmentation=True)
        try:
            contact, _ = greedy_contact(adapter.backbone, frame.rgb, question)
        except AnswerParseError:
            record["failure"] = "no prediction"
            return record, None
        record["pixel"] = [round(contact.x, 1), round(contact.y, 1)]
        if not on_movable_part(world, frame, contact.x, contact.y):
            record["failure"] = OFF_PART
        else:
            rng = np.random.default_rng([seed, 13])
            result = execute_contact(world, robot, frame, contact, PullConfig(), rng)
            record.update(delta=round(result.delta, 5), failure=result.failure)
            record["success"] = result.delta > INITIAL_DELTA
    outcome = TrialOutcome(frame.rgb, (contact.x, contact.y), record["success"], category)
    return record, outcome
