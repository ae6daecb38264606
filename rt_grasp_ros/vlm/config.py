"""Training configuration: typed dataclasses loaded from YAML, validated field by field."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.vlm.tiny import TinySpec

STRATEGIES = ("projector", "lora", "full")
# What can train: the projector, the language model or the vision tower in full (with its
# embeddings and head for the language model), or LoRA adapters on either's linear layers
# (``vision_lora``: ManipLLM's V-Adapter, the part test-time adaptation updates).
PARTS = ("projector", "language_model", "vision_tower", "lm_lora", "vision_lora")
LORA_PARTS = ("lm_lora", "vision_lora")
STRATEGY_PARTS = {
    "projector": ("projector",),
    "lora": ("projector", "lm_lora"),
    "full": ("projector", "language_model"),
}
_EXCLUSIVE = (("language_model", "lm_lora"), ("vision_tower", "vision_lora"))
MANIP_TASKS = ("category", "affordance", "mask", "pose", "chain", "point")
ENGINES = ("ddp", "fsdp", "deepspeed")
CONFIG_PACKAGE = "rt_grasp_ros.vlm"
CONFIG_FOLDER = "configs"


@dataclass(frozen=True)
class ModelConfig:
    """Which model to start from: a hub id or path (``base``), or a tiny one built here."""

    base: str | None = None
    tiny: TinySpec | None = None
    dtype: str = "auto"
    device: str = "auto"

    def __post_init__(self) -> None:
        if (self.base is None) == (self.tiny is None):
            raise ConfigError(
                "model: give exactly one of model.base (hub id or path) and model.tiny"
            )


@dataclass(frozen=True)
class LoraConfig:
    """LoRA rank, scaling and dropout (applied to every linear layer of the language model)."""

    r: int = 64
    alpha: float = 32.0
    dropout: float = 0.05


@dataclass(frozen=True)
class OptimConfig:
    """Optimisation. ``batch_size`` is the effective batch (micro batch x accumulation)."""

    learning_rate: float = 5e-4
    batch_size: int = 32
    micro_batch_size: int = 4
    epochs: float = 1.0
    max_steps: int = -1
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    scheduler: str = "cosine"
    max_grad_norm: float = 1.0
    gradient_checkpointing: bool = False

    def __post_init__(self) -> None:
        if (
            self.batch_size < 1
            or self.micro_batch_size < 1
            or self.batch_size % self.micro_batch_size
        ):
            raise ConfigError(
                f"optim.batch_size ({self.batch_size}) must be a positive multiple of "
                f"optim.micro_batch_size ({self.micro_batch_size})"
            )
        if self.learning_rate <= 0:
            raise ConfigError(f"optim.learning_rate must be positive, got {self.learning_rate}")

    @property
    def accumulation(self) -> int:
        """Gradient accumulation steps on one process."""
        return self.accumulation_for(1)

    def accumulation_for(self, world_size: int) -> int:
        """Accumulation steps per process that keep ``batch_size`` over ``world_size`` processes.

        Raises:
            ConfigError: ``batch_size`` is not a multiple of micro batch x processes.
        """
        per_step = self.micro_batch_size * world_size
        if self.batch_size % per_step:
            raise ConfigError(
                f"optim.batch_size ({self.batch_size}) must be a multiple of "
                f"optim.micro_batch_size ({self.micro_batch_size}) x {world_size} processes "
                f"= {per_step}, so that the effective batch stays the configured one"
            )
        return self.batch_size // per_step


def _check_names(where: str, names: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    """A non-empty list of distinct names from ``allowed``, or a ConfigError naming ``where``."""
    if not names:
        raise ConfigError(f"{where}: must name at least one of {', '.join(allowed)}")
    for name in names:
        if name not in allowed:
            raise ConfigError(f"{where}: unknown {name!r}; allowed: {', '.join(allowed)}")
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: {list(names)} names an entry twice")


@dataclass(frozen=True)
class DataConfig:
    """Which fold to train on, the longest conversation, and how samples are loaded.

    ``tasks`` (ManipLLM task files only) selects the conversations that train, by task:
    ``category`` (object category identification), ``affordance`` (affordance prior
    reasoning), ``mask`` (masked language modelling), ``pose`` (the pose prompt) and
    ``chain`` (the three chain-of-thought turns of inference in one conversation), ``point``
    (affordance questions about one pixel, as test-time adaptation asks them); ``None``
    trains every conversation of the file. The paper's Table 2 ablations are subsets.

    ``cache_examples`` keeps each sample's processed image and prompt in memory, for the next
    use with the same instruction; it helps small datasets of fixed images (memory grows with
    images x instructions). ``num_workers`` processes load and tokenise samples beside the
    training process (0: it does so itself); each holds its own cache for one epoch, so on a
    GPU prefer workers to the cache for large datasets.
    """

    fold: int = 0
    max_length: int = 2048
    cache_examples: bool = False
    num_workers: int = 0
    tasks: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.num_workers < 0:
            raise ConfigError(f"data.num_workers must be 0 or more, got {self.num_workers}")
        if self.tasks is not None:
            _check_names("data.tasks", self.tasks, MANIP_TASKS)


@dataclass(frozen=True)
class EvalConfig:
    """Validation with the rectangle metric during training (every_steps 0 = only at the end)."""

    every_steps: int = 0
    samples: int = 64
    max_new_tokens: int = 160
    batch_size: int = 8


@dataclass(frozen=True)
class DistributedConfig:
    """The engine used when ``rt-grasp train`` runs under torchrun or ``accelerate launch``.

    - ``ddp``: every process holds the whole model, gradients are averaged (the default).
    - ``fsdp``: parameters, gradients and optimiser state sharded by PyTorch FSDP;
      ``fsdp`` holds the Trainer's FSDP options.
    - ``deepspeed``: DeepSpeed ZeRO; ``deepspeed`` is a packaged stage (``zero2``, ``zero3``)
      or a DeepSpeed JSON file.

    A single process ignores the engine.
    """

    engine: str = "ddp"
    fsdp: str = "full_shard auto_wrap"
    deepspeed: str = "zero2"

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(
                f"distributed.engine must be one of {', '.join(ENGINES)}, got {self.engine!r}"
            )


@dataclass(frozen=True)
class TrainConfig:
    """Everything ``rt-grasp train`` needs besides the data and the output folder."""

    model: ModelConfig
    strategy: str | None = None
    trainable: tuple[str, ...] | None = None
    train_vision_tower: bool = False
    lora: LoraConfig = field(default_factory=LoraConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    seed: int = 0
    logging_steps: int = 10
    save_steps: int = 500

    def __post_init__(self) -> None:
        if self.strategy is not None and self.strategy not in STRATEGIES:
            raise ConfigError(
                f"strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}"
            )
        if self.trainable is None:
            return
        if self.strategy is not None or self.train_vision_tower:
            raise ConfigError(
                "trainable: give either trainable or strategy/train_vision_tower, not both "
                f"(trainable={list(self.trainable)}, strategy={self.strategy!r}, "
                f"train_vision_tower={self.train_vision_tower})"
            )
        _check_names("trainable", self.trainable, PARTS)
        for full, lora in _EXCLUSIVE:
            if full in self.trainable and lora in self.trainable:
                raise ConfigError(
                    f"trainable: {full} trains in full, so {lora} on it has nothing to add; "
                    "name one of them"
                )

    @property
    def parts(self) -> tuple[str, ...]:
        """What trains (in :data:`PARTS` order): ``trainable``, or what ``strategy`` means.

        ``strategy`` (default ``lora``) and ``train_vision_tower`` are the older spelling:
        ``projector`` = [projector], ``lora`` = [projector, lm_lora], ``full`` =
        [projector, language_model]; ``train_vision_tower`` adds vision_tower.
        """
        if self.trainable is not None:
            named = set(self.trainable)
        else:
            named = set(STRATEGY_PARTS[self.strategy or "lora"])
            named |= {"vision_tower"} if self.train_vision_tower else set()
        return tuple(p for p in PARTS if p in named)

    @property
    def storage(self) -> str:
        """How a checkpoint stores what trained (its ``strategy``).

        ``lora`` (a PEFT adapter, with the parts that train in full as its saved modules)
        when a LoRA part trains, else ``projector`` or ``full`` (the trained parameters in one
        safetensors file).
        """
        parts = self.parts
        if any(p in LORA_PARTS for p in parts):
            return "lora"
        return "projector" if parts == ("projector",) else "full"

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (for checkpoints and logs)."""
        return dataclasses.asdict(self)


def _build(cls: type, data: Any, where: str) -> Any:
    """Instantiate dataclass ``cls`` from ``data``, naming the key of any problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(
            f"{where + '.' if where else ''}{unknown[0]}: unknown key "
            f"(expected one of: {', '.join(names)})"
        )
    kwargs = {
        k: _convert(hints[k], v, f"{where + '.' if where else ''}{k}") for k, v in data.items()
    }
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where or 'config'}: {exc}") from exc


def _convert(hint: Any, value: Any, where: str) -> Any:
    options = (
        typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        else (hint,)
    )
    if value is None:
        if type(None) in options:
            return None
        raise ConfigError(f"{where}: must not be empty")
    for option in options:
        if dataclasses.is_dataclass(option):
            return _build(option, value, where)
        if typing.get_origin(option) is tuple and isinstance(value, (list, tuple)):
            item = typing.get_args(option)[0]
            return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    for option in options:
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if option is float and isinstance(value, str):
            # YAML 1.1 reads "1e-4" (no dot) as a string.
            try:
                return float(value)
            except ValueError:
                pass
        if option is str and isinstance(value, str):
            return value
    expected = " or ".join(getattr(o, "__name__", str(o)) for o in options if o is not type(None))
    raise ConfigError(f"{where}: expected {expected}, got {value!r}")


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` strings (values parsed as YAML) to a nested dict."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. optim.learning_rate=1e-4")
        key, raw = item.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {part} is not a section")
        node[parts[-1]] = yaml.safe_load(raw)
    return data


def packaged_configs() -> dict[str, Path]:
    """The training configs shipped with the package: name (file stem) -> file."""
    folder = resources.files(CONFIG_PACKAGE) / CONFIG_FOLDER
    if not folder.is_dir():
        raise ConfigError(
            f"{folder} is missing: rt_grasp_ros was installed without its package data"
        )
    files = [f for f in folder.iterdir() if f.is_file() and f.name.endswith(".yaml")]
    return {f.name[: -len(".yaml")]: Path(str(f)) for f in sorted(files, key=lambda f: f.name)}


def resolve_train_config(config: str | Path) -> Path:
    """The file of ``config``: an existing YAML path, or the name of a packaged config.

    A name is a bare word such as ``tiny`` or ``llava-lora`` (``tiny.yaml`` works too); a
    value with a folder in it is always a path.

    Raises:
        ConfigError: a path that does not exist, or an unknown name (listing the known ones).
    """
    path = Path(config)
    if path.is_file():
        return path
    packaged = packaged_configs()
    name = path.name[: -len(".yaml")] if path.suffix == ".yaml" else path.name
    if len(path.parts) == 1 and name in packaged:
        return packaged[name]
    if len(path.parts) > 1:
        raise ConfigError(f"training config {config} does not exist")
    raise ConfigError(
        f"unknown training config {str(config)!r}: not a file, and not a packaged config "
        f"(packaged: {', '.join(packaged)})"
    )


def load_train_config(config: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML training config (a path or a packaged name), apply overrides, validate it.

    Args:
        config: a YAML file, or the name of a packaged config (:func:`packaged_configs`).
        overrides: ``key.sub=value`` strings, as given to ``--set``.
    """
    path = resolve_train_config(config)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    data = apply_overrides(data, overrides or [])
    try:
        return _build(TrainConfig, data, "")
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
