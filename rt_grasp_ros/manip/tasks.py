"""ManipLLM's four fine-tuning tasks as LLaVA conversations, from validated YAML formats.

The tasks (paper Sec. 3.1.2): object category identification, affordance prior reasoning
(n positive points with affordance > ``high`` and n negative ones < ``low``, answered yes/no),
masked language modelling (values of the pose answer masked, the model fills them in) and the
pose prompt. Their texts live in ``manip/data/tasks.yaml`` and the category names in
``manip/data/categories.yaml``; both are validated when loaded (errors name file and entry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.manip.contact import ContactPose
from rt_grasp_ros.prompts.conversation import gpt_turn, human_turn

_PLACEHOLDER = re.compile(r"\{([^}]*)\}")
NAMES = ("category", "object", "part", "action", "where")
TASKS = ("category", "affordance", "mask", "pose")
CHAIN = "chain"  # the chain-of-thought conversation: inference's three turns, trained as one
POINT = "point"  # one-point affordance questions, the form test-time adaptation asks in


@dataclass(frozen=True)
class TaskText:
    """Question variants and the answer template of one task."""

    questions: tuple[str, ...]
    answer: str = ""


@dataclass(frozen=True)
class AffordanceTask:
    """Affordance prior reasoning: n points above ``high`` (yes) and n below ``low`` (no)."""

    questions: tuple[str, ...]
    positive: str
    negative: str
    n: int
    high: float
    low: float


@dataclass(frozen=True)
class MaskTask:
    """Masked language modelling: each value masked with ``probability`` (at least one)."""

    questions: tuple[str, ...]
    token: str
    probability: float


@dataclass(frozen=True)
class TaskFormats:
    """Every task's texts and each category's names."""

    category: TaskText
    reasoning: TaskText
    affordance: AffordanceTask
    pose: TaskText
    mask: MaskTask
    names: dict[str, dict[str, str]]

    def names_for(self, category: str) -> dict[str, str]:
        """The prompt names of ``category``.

        Raises:
            ConfigError: the category has no entry in categories.yaml.
        """
        if category not in self.names:
            raise ConfigError(f"categories.yaml has no entry for category {category!r}")
        return self.names[category]


def _fail(path: Path, where: str, problem: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: {problem}")


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read task format file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise _fail(path, "top level", f"expected a mapping, got {type(data).__name__}")
    if data.get("version") != 1:
        raise _fail(path, "version", f"expected 1, got {data.get('version')!r}")
    return data


def _text_list(path: Path, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(path, where, f"expected a non-empty list of texts, got {value!r}")
    for i, text in enumerate(value):
        if not isinstance(text, str) or not text.strip():
            raise _fail(path, f"{where}[{i}]", f"expected a non-empty text, got {text!r}")
    return tuple(t.strip() for t in value)


def _placeholders(path: Path, where: str, texts: tuple[str, ...], allowed: set[str]) -> None:
    for i, text in enumerate(texts):
        bad = sorted(set(_PLACEHOLDER.findall(text)) - allowed)
        if bad:
            raise _fail(
                path, f"{where}[{i}]", f"unknown placeholder(s) {bad}; allowed: {sorted(allowed)}"
            )


def _entry(
    path: Path, data: dict[str, Any], name: str, keys: set[str], where: str = ""
) -> dict[str, Any]:
    where = where or name
    entry = data.get(name)
    if not isinstance(entry, dict):
        raise _fail(path, where, f"expected a mapping, got {entry!r}")
    unknown, missing = set(entry) - keys, keys - set(entry)
    if unknown or missing:
        raise _fail(path, where, f"unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    return entry


def _text(path: Path, where: str, value: Any, allowed: set[str]) -> tuple[str, ...]:
    texts = _text_list(path, where, value)
    _placeholders(path, where, texts, allowed)
    return texts


def _number(path: Path, where: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise _fail(path, where, f"expected a number in [{low}, {high}], got {value!r}")
    return float(value)


def _parse_tasks(path: Path) -> dict[str, Any]:
    data = _load_yaml(path)
    unknown = set(data) - {"version", "category", "reasoning", "affordance", "pose", "mask"}
    if unknown:
        raise _fail(path, "top level", f"unknown keys {sorted(unknown)}")
    names = set(NAMES)
    out: dict[str, Any] = {}
    for key, extra in (
        ("category", set()),
        ("reasoning", set()),
        ("pose", {"x", "y", "up", "forward"}),
    ):
        e = _entry(path, data, key, {"questions", "answer"})
        out[key] = TaskText(
            _text(path, f"{key}.questions", e["questions"], names),
            _text(path, f"{key}.answer", [e["answer"]], names | extra)[0],
        )
    e = _entry(path, data, "affordance", {"questions", "positive", "negative", "n", "high", "low"})
    n = e["n"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise _fail(path, "affordance.n", f"expected an integer >= 1, got {n!r}")
    high = _number(path, "affordance.high", e["high"], 0.0, 1.0)
    low = _number(path, "affordance.low", e["low"], 0.0, 1.0)
    if not low < high:
        raise _fail(path, "affordance.low", f"must be below affordance.high ({high}), got {low}")
    out["affordance"] = AffordanceTask(
        _text(path, "affordance.questions", e["questions"], names | {"points"}),
        _text(path, "affordance.positive", [e["positive"]], set())[0],
        _text(path, "affordance.negative", [e["negative"]], set())[0],
        n,
        high,
        low,
    )
    e = _entry(path, data, "mask", {"questions", "token", "probability"})
    out["mask"] = MaskTask(
        _text(path, "mask.questions", e["questions"], names | {"masked"}),
        _text(path, "mask.token", [e["token"]], set())[0],
        _number(path, "mask.probability", e["probability"], 1e-6, 1.0),
    )
    return out


def _parse_names(path: Path) -> dict[str, dict[str, str]]:
    data = _load_yaml(path)
    unknown = set(data) - {"version", "categories"}
    if unknown:
        raise _fail(path, "top level", f"unknown keys {sorted(unknown)}")
    categories = data.get("categories")
    if not isinstance(categories, dict) or not categories:
        raise _fail(path, "categories", "expected a non-empty mapping of category -> names")
    out = {}
    for name in categories:
        e = _entry(path, categories, name, set(NAMES), f"categories.{name}")
        out[str(name)] = {
            k: _text(path, f"categories.{name}.{k}", [e[k]], set())[0] for k in NAMES
        }
    return out


def _packaged(name: str) -> Path:
    return Path(str(resources.files("rt_grasp_ros.manip") / "data" / name))


@lru_cache(maxsize=1)
def _shipped() -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    return _parse_tasks(_packaged("tasks.yaml")), _parse_names(_packaged("categories.yaml"))


def load_task_formats(
    tasks_path: str | Path | None = None, categories_path: str | Path | None = None
) -> TaskFormats:
    """Load and validate the task formats; defaults are the files shipped with the package.

    Raises:
        ConfigError: naming the file and the entry that is wrong.
    """
    shipped_tasks, shipped_names = _shipped()
    tasks = _parse_tasks(Path(tasks_path)) if tasks_path is not None else shipped_tasks
    names = _parse_names(Path(categories_path)) if categories_path is not None else shipped_names
    return TaskFormats(names=dict(names), **tasks)


def sample_affordance_points(
    affordance: np.ndarray, mask: np.ndarray, task: AffordanceTask, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Positive and negative pixels ``(x, y)`` (column, row) for affordance prior reasoning.

    ``mask`` is 0 off the object, 1 on its static body, 2 on the moving part. Positives: part
    pixels above ``high``. Negatives cover the part's pixels below ``low`` (near a hinge) and
    the static body, half from each when both exist.
    """
    part_low = np.argwhere((mask == 2) & (affordance < task.low))
    static = np.argwhere(mask == 1)
    pos = _pick(np.argwhere((mask == 2) & (affordance > task.high)), task.n, rng)
    if len(part_low) and len(static):
        half = task.n // 2
        neg = np.vstack([_pick(part_low, half, rng), _pick(static, task.n - half, rng)])
    else:
        neg = _pick(part_low if len(part_low) else static, task.n, rng)
    return pos[:, ::-1], neg[:, ::-1]


def _pick(rows_cols: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if not len(rows_cols):
        return rows_cols.reshape(0, 2)
    return rows_cols[rng.choice(len(rows_cols), min(n, len(rows_cols)), replace=False)]


@dataclass(frozen=True)
class TaskSample:
    """What the tasks need of one collected sample."""

    sample_id: str
    image: str
    category: str
    contact: ContactPose
    positives: np.ndarray
    negatives: np.ndarray


def pose_values(contact: ContactPose) -> list[str]:
    """The pose answer's eight values as text: x, y, up (3 bins), forward (3 bins)."""
    (x, y), up, forward = contact.bins()
    return [str(v) for v in (x, y, *up, *forward)]


def pose_answer(values: list[str], formats: TaskFormats) -> str:
    """The pose answer with ``values`` (from :func:`pose_values`, possibly masked)."""
    return formats.pose.answer.format(
        x=values[0],
        y=values[1],
        up="(" + ", ".join(values[2:5]) + ")",
        forward="(" + ", ".join(values[5:8]) + ")",
    )


def _record(sample: TaskSample, task: str, question: str, answer: str) -> dict[str, Any]:
    return {
        "id": f"{sample.sample_id}-{task}",
        "image": sample.image,
        "task": task,
        "conversations": [human_turn(question), gpt_turn(answer)],
    }


def build_conversations(
    sample: TaskSample,
    formats: TaskFormats,
    rng: np.random.Generator,
    chain: bool = True,
    points: int = 0,
) -> list[dict[str, Any]]:
    """The training conversations of one sample.

    The four tasks (category, affordance, mask, pose), with ``chain`` the chain-of-thought
    conversation (:func:`chain_conversation`), and ``points`` one-point affordance questions
    (:func:`point_conversations`).
    """
    names = formats.names_for(sample.category)

    def ask(task: TaskText | AffordanceTask | MaskTask, **extra: str) -> str:
        return task.questions[int(rng.integers(len(task.questions)))].format(**names, **extra)

    aff = formats.affordance
    pairs = [(p, aff.positive) for p in sample.positives] + [
        (p, aff.negative) for p in sample.negatives
    ]
    order = rng.permutation(len(pairs))
    listed = ", ".join(f"({int(pairs[k][0][0])}, {int(pairs[k][0][1])})" for k in order)
    answers = ", ".join(pairs[k][1] for k in order)
    values = pose_values(sample.contact)
    masked = mask_values(values, formats.mask, rng)
    pose = pose_answer(values, formats)
    return (
        [
            _record(
                sample, "category", ask(formats.category), formats.category.answer.format(**names)
            ),
            _record(sample, "affordance", ask(aff, points=listed), answers),
            _record(sample, "mask", ask(formats.mask, masked=pose_answer(masked, formats)), pose),
            _record(sample, "pose", ask(formats.pose), pose),
        ]
        + ([chain_conversation(sample, formats, pose)] if chain else [])
        + point_conversations(sample, formats, points)
    )


def affordance_question(formats: TaskFormats, category: str, pixels: list[Any]) -> str:
    """The affordance prior reasoning question (its first wording) about ``pixels`` (x, y).

    ``category`` may be empty (a contact asked without the chain of thought names none) when
    the question uses no category name.

    Raises:
        ConfigError: the category is unknown, or empty while the question names it.
    """
    listed = ", ".join(f"({int(x)}, {int(y)})" for x, y in pixels)
    names = formats.names_for(category) if category else {}
    try:
        return formats.affordance.questions[0].format(**names, points=listed)
    except KeyError as exc:
        raise ConfigError(
            f"the affordance question uses the category's name {{{exc.args[0]}}}, but no "
            "category is given (a contact asked without the chain of thought names none)"
        ) from None


def point_conversations(sample: TaskSample, formats: TaskFormats, n: int) -> list[dict[str, Any]]:
    """``n`` affordance questions about one pixel each, half of them positives (``yes``).

    Test-time adaptation asks about the one pixel a trial operated on (paper Sec. 3.3);
    these train that form of the question beside the task's list of 2 x 20 points.
    """
    aff = formats.affordance
    picks = [(p, aff.positive) for p in sample.positives[: (n + 1) // 2]]
    picks += [(p, aff.negative) for p in sample.negatives[: n // 2]]
    return [
        {
            "id": f"{sample.sample_id}-{POINT}{k}",
            "image": sample.image,
            "task": POINT,
            "conversations": [
                human_turn(affordance_question(formats, sample.category, [pixel])),
                gpt_turn(answer),
            ],
        }
        for k, (pixel, answer) in enumerate(picks)
    ]


def chain_conversation(sample: TaskSample, formats: TaskFormats, pose: str) -> dict[str, Any]:
    """ManipLLM's inference as a training conversation.

    The three prompts of :func:`chain_of_thought` in one conversation, answered with the
    category, the reasoning template and the pose; the loss covers all three answers, so the
    model learns to answer each turn in the context of the ones before it, as it is asked at
    inference.
    """
    names = formats.names_for(sample.category)
    category, reasoning, ask_pose = chain_of_thought(formats, sample.category)
    turns = [
        human_turn(category),
        gpt_turn(formats.category.answer.format(**names)),
        human_turn(reasoning, with_image=False),
        gpt_turn(formats.reasoning.answer.format(**names)),
        human_turn(ask_pose, with_image=False),
        gpt_turn(pose),
    ]
    return {"id": f"{sample.sample_id}-{CHAIN}", "image": sample.image, "task": CHAIN,
            "conversations": turns}  # fmt: skip


def mask_values(values: list[str], task: MaskTask, rng: np.random.Generator) -> list[str]:
    """``values`` with each replaced by the mask token with ``probability`` (at least one)."""
    hide = rng.random(len(values)) < task.probability
    if not hide.any():
        hide[int(rng.integers(len(values)))] = True
    return [task.token if h else v for v, h in zip(values, hide, strict=True)]


def chain_of_thought(formats: TaskFormats, category: str) -> list[str]:
    """The three inference prompts of ManipLLM's chain of thought (paper Fig. 4)."""
    names = formats.names_for(category)
    return [
        formats.category.questions[0].format(**names),
        formats.reasoning.questions[0].format(**names),
        formats.pose.questions[0].format(**names),
    ]
