"""Every articulated category draws, seed for seed, the same object it drew before the parts
were built by mechanism (issue 17): the MJCF it writes, its ground truth and its masses.

The recorded summaries are in ``golden/articulated.json``; numbers are written with 10
significant digits (as the MJCF is), so a refactor that only reorders float arithmetic passes.
Regenerate (after a deliberate change) with ``python test/sim/test_articulated_golden.py``.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import mujoco
import numpy as np
import pytest

from rt_grasp_ros.sim.articulated import ARTICULATED, make_articulated
from rt_grasp_ros.sim.mjcf import fmt

GOLDEN = Path(__file__).parent / "golden" / "articulated.json"
SEEDS = range(5)


def _numbers(value: object) -> object:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in sorted(value.items())}
    if isinstance(value, (int, float)):
        return fmt([value])
    return [_numbers(v) for v in value]


def summary(kind: str, seed: int) -> dict[str, object]:
    """The object's MJCF, the ground truth it is not written into and its bodies' masses."""
    spec = make_articulated(kind, np.random.default_rng(seed))
    root = ET.Element("mujoco", model=kind)
    spec.add_assets(ET.SubElement(root, "asset"))
    spec.add_to(ET.SubElement(root, "worldbody"))
    xml = ET.tostring(root, encoding="unicode")
    model = mujoco.MjModel.from_xml_string(xml)
    truth = {
        name: getattr(spec, name)
        for name in (
            "kind",
            "suction_point",
            "suction_normal",
            "handle_center",
            "grasp_rotation",
            "center",
            "half_extent",
            "extra",
        )
    }
    masses = {model.body(b).name: model.body_mass[b] for b in range(1, model.nbody)}
    return {"xml": xml, "truth": _numbers(truth), "masses": _numbers(masses)}


def _all() -> dict[str, dict[str, object]]:
    return {f"{kind}/{seed}": summary(kind, seed) for kind in ARTICULATED for seed in SEEDS}


@pytest.fixture(scope="module")
def golden() -> dict[str, dict[str, object]]:
    return json.loads(GOLDEN.read_text())


def test_every_category_and_seed_is_recorded(golden):
    assert set(golden) == {f"{kind}/{seed}" for kind in ARTICULATED for seed in SEEDS}


@pytest.mark.parametrize("kind", ARTICULATED)
@pytest.mark.parametrize("seed", SEEDS)
def test_the_object_is_the_recorded_one(golden, kind, seed):
    now, before = summary(kind, seed), golden[f"{kind}/{seed}"]
    assert now["truth"] == before["truth"]
    assert now["masses"] == before["masses"]
    assert now["xml"] == before["xml"]


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(_all(), indent=1, sort_keys=True) + "\n")
    sys.exit(0)
