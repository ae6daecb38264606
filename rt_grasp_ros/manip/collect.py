"""ManipLLM's data collection on the embedded robot, in parallel processes and in shards.

For each seed (paper Sec. 4.1): an object of one of the categories (round robin), a randomised
view, a contact pixel drawn uniformly on the moving part, the gripper's up direction opposite
the surface normal there (with a little noise, as ManipLLM's code adds) and a random forward
direction; the cup seals and pulls straight along ``-up``. The cup flies free by default (as
the paper's flying suction gripper in SAPIEN; the arm stays in the picture) or is on the arm
(``CollectConfig.tool``). A success is a sample whose part
moved more than ``delta``. Every attempt is counted in ``attempts.jsonl``; successful samples
are saved (RGB, depth, affordance map, object mask, the contact pose) for the training tasks.

Seeds are split into contiguous shards (``shard i of N``) so that a cluster scheduler can run
them on many machines; :func:`merge` joins shard folders and builds the task file.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.manip.contact import ContactPose
from rt_grasp_ros.manip.dataset import ATTEMPTS, MANIFEST, build_tasks, summarize, write_sample
from rt_grasp_ros.manip.policies import object_masks, surface_at
from rt_grasp_ros.manip.scene import ViewRandomization, manip_scene
from rt_grasp_ros.manip.trial import PullConfig, execute_contact
from rt_grasp_ros.sim.affordance import affordance_map
from rt_grasp_ros.sim.articulated import CATEGORIES, TRAIN_CATEGORIES
from rt_grasp_ros.sim.flying import FlyingCup
from rt_grasp_ros.sim.pool import process_pool
from rt_grasp_ros.sim.robot import SimRobot
from rt_grasp_ros.sim.world import World

TOOLS = ("flying", "arm")


@dataclass(frozen=True)
class CollectConfig:
    """What a collection draws and how it pulls.

    Attributes:
        categories: categories, taken in turn by seed (default: the training split).
        delta: a sample succeeds when the part moved more than this (m or rad).
        up_noise: standard deviation of the noise added to the up direction.
        pull: how the contact is executed (the paper's collection pulls straight).
        view: the view randomisation.
        settle: how long the scene settles before the image (s).
        tool: ``flying``: a free-flying suction cup does the pulls (ManipLLM's collection; the
            arm stays in the picture, fixed); ``arm``: the Panda with the cup (see
            :mod:`rt_grasp_ros.sim.flying` for how the two differ).
    """

    categories: tuple[str, ...] = TRAIN_CATEGORIES
    delta: float = 0.01
    up_noise: float = 0.01
    pull: PullConfig = field(default_factory=lambda: PullConfig(adaptive=False))
    view: ViewRandomization = field(default_factory=ViewRandomization)
    settle: float = 0.3
    tool: str = "flying"

    def __post_init__(self) -> None:
        if self.tool not in TOOLS:
            raise ConfigError(f"CollectConfig.tool must be one of {TOOLS}, got {self.tool!r}")
        unknown = [c for c in self.categories if c not in CATEGORIES]
        if unknown or not self.categories:
            raise ConfigError(
                f"CollectConfig.categories: unknown {unknown} or empty; known: "
                + ", ".join(CATEGORIES)
            )
        if not self.delta > 0 or self.up_noise < 0 or self.settle < 0:
            raise ConfigError(
                "CollectConfig needs delta > 0, up_noise >= 0 and settle >= 0; got "
                f"{self.delta}, {self.up_noise}, {self.settle}"
            )


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` -> ``(i, N)`` with ``0 <= i < N``.

    Raises:
        ConfigError: malformed or out of range.
    """
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise ConfigError(f"--shard must look like i/N (e.g. 0/8), got {text!r}") from None
    if not 0 <= i < n:
        raise ConfigError(f"--shard {text}: need 0 <= i < N")
    return i, n


def shard_seeds(first: int, n: int, shard: tuple[int, int] = (0, 1)) -> range:
    """Shard ``i`` of ``N``'s contiguous block of the seeds ``first .. first + n - 1``."""
    i, count = shard
    return range(first + i * n // count, first + (i + 1) * n // count)


def random_contact(
    world: World, frame: Any, movable: np.ndarray, noise: float, rng: np.random.Generator
) -> ContactPose:
    """A pixel drawn uniformly on the moving part, up opposite the normal, forward random."""
    rows, cols = np.nonzero(movable)
    k = int(rng.integers(len(rows)))
    x, y = cols[k] + 0.5, rows[k] + 0.5
    normal, _ = surface_at(world, frame, x, y)
    up = -normal + rng.normal(0, noise, 3)
    up /= np.linalg.norm(up)
    forward = rng.normal(size=3)
    forward -= (forward @ up) * up
    return ContactPose.from_base((x, y), up, forward, frame.camera)


def collect_sample(seed: int, config: CollectConfig, out: Path | None = None) -> dict[str, Any]:
    """One attempt: the record of ``attempts.jsonl``; a success is saved under ``out``."""
    start = time.perf_counter()
    category = config.categories[seed % len(config.categories)]
    info = CATEGORIES[category]
    record: dict[str, Any] = {
        "seed": seed,
        "category": category,
        "split": info.split,
        "part_type": info.part_type,
        "tool": config.tool,
        "success": False,
    }
    spec = manip_scene(seed, category, config.view)
    flying = config.tool == "flying"
    if flying:
        spec = replace(spec, config=replace(spec.config, mount="flying"))
    with World(spec, shared_gl=flying) as world:
        robot = FlyingCup(world) if flying else SimRobot(world)
        robot.wait(config.settle)
        frame = world.render(segmentation=True)
        obj, movable = object_masks(world, frame)
        rng = np.random.default_rng([seed, 11])
        try:
            if not movable.any():
                raise RtGraspError("the moving part is not in view")
            contact = random_contact(world, frame, movable, config.up_noise, rng)
        except RtGraspError as exc:
            record.update(failure="no contact", detail=str(exc))
            return _timed(record, world, start)
        outcome = execute_contact(world, robot, frame, contact, config.pull, rng)
        success = outcome.failure is None and outcome.delta > config.delta
        record.update(
            success=success,
            delta=round(outcome.delta, 5),
            failure=outcome.failure or (None if success else "no movement"),
            detail=outcome.detail,
            contact=_contact_json(contact, frame),
        )
        if success and out is not None:
            amap = affordance_map(world, frame)
            write_sample(out, record, frame, amap.magnitude, obj, movable)
        return _timed(record, world, start)


def _contact_json(contact: ContactPose, frame: Any) -> dict[str, Any]:
    rotation = contact.rotation(frame.camera).as_matrix()
    return {
        "pixel": [round(contact.x, 2), round(contact.y, 2)],
        "up_camera": [round(v, 5) for v in contact.up],
        "forward_camera": [round(v, 5) for v in contact.forward],
        "up_base": [round(float(v), 5) for v in rotation[:, 2]],
        "forward_base": [round(float(v), 5) for v in rotation[:, 0]],
    }


def _timed(record: dict[str, Any], world: World, start: float) -> dict[str, Any]:
    record["sim_time"] = round(world.time, 3)
    record["wall_time"] = round(time.perf_counter() - start, 3)
    return record


def collect(
    seeds: range,
    config: CollectConfig,
    out: Path,
    workers: int = 1,
    progress: bool = True,
    shard: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Run the attempts of ``seeds`` in ``workers`` processes; write ``out``; the manifest."""
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    out.mkdir(parents=True, exist_ok=True)
    job = partial(collect_sample, config=config, out=out)
    start = time.perf_counter()
    records = []
    bar = tqdm(total=len(seeds), desc="collect", disable=not progress)
    with process_pool(workers) as pool:
        results = pool.imap_unordered(job, seeds) if pool is not None else map(job, seeds)
        for record in results:
            records.append(record)
            bar.update()
            bar.set_postfix(success=f"{sum(r['success'] for r in records)}/{len(records)}")
    bar.close()
    wall = time.perf_counter() - start
    records.sort(key=lambda r: r["seed"])
    with (out / ATTEMPTS).open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    manifest = summarize(records) | {
        "seeds": [seeds.start, seeds.stop],
        "shard": f"{shard[0]}/{shard[1]}" if shard else None,
        "workers": workers,
        "wall_s": round(wall, 2),
        "samples_per_s": round(len(records) / wall, 3) if wall > 0 else None,
        "config": _config_json(config),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    if shard is None:
        build_tasks(out)
    return manifest


def _config_json(config: CollectConfig) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(config), default=str))
