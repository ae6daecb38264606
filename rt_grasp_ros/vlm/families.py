"""Model families that work through the same interface, and where their parts live."""

from __future__ import annotations

from dataclasses import dataclass

from rt_grasp_ros.errors import ConfigError

LORA_LAYERS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# The vision towers' linear layers: CLIP (q/k/v/out_proj, fc1/2), Qwen2-VL (attn.qkv, attn.proj,
# mlp.fc1/2) and Qwen2.5-VL (attn.qkv, attn.proj, mlp.gate/up/down_proj).
VISION_LORA_LAYERS = (
    "q_proj", "k_proj", "v_proj", "out_proj", "qkv", "proj", "fc1", "fc2",
    "gate_proj", "up_proj", "down_proj",
)  # fmt: skip


@dataclass(frozen=True)
class Family:
    """One image-text-to-text architecture family.

    Attributes:
        name: short name used in configs and checkpoints.
        model_types: ``config.model_type`` values that belong to the family.
        projector: module name of the multimodal projector (the part that maps image
            features into the language model's embedding space).
        vision: module name of the vision tower.
        language: module name of the language model.
        vision_blocks: regex of the vision tower's transformer blocks' module path (they
            hold the vision LoRA; Qwen2-VL's projector, the merger, sits in its vision tower
            beside them; a downloaded CLIP tower nests them in ``vision_model``).
        square_images: whether images are padded to a square first (processors that centre
            crop would otherwise cut off the sides, and normalised coordinates refer to the
            whole image).
    """

    name: str
    model_types: tuple[str, ...]
    projector: str
    vision: str
    language: str
    square_images: bool
    vision_blocks: str

    def lora_target_regex(self) -> str:
        """PEFT ``target_modules`` regex: every linear layer of the language model only."""
        return rf".*\.{self.language}\..*\.({'|'.join(LORA_LAYERS)})$"

    def vision_lora_target_regex(self) -> str:
        """PEFT ``target_modules`` regex: every linear layer of the vision tower's blocks.

        ManipLLM's V-Adapter; never the projector.
        """
        return rf".*\.{self.vision_blocks}\..*\.({'|'.join(VISION_LORA_LAYERS)})$"

    def lora_targets(self, language: bool, vision: bool) -> str:
        """The ``target_modules`` regex of LoRA on the language model, the vision tower or both.

        PEFT matches the whole module name against it.
        """
        regexes = [self.lora_target_regex()] * language + [
            self.vision_lora_target_regex()
        ] * vision
        if not regexes:
            raise ConfigError("LoRA needs the language model, the vision tower or both")
        return "|".join(f"(?:{r})" for r in regexes)

    def is_projector(self, parameter_name: str) -> bool:
        """Whether a parameter belongs to the projector."""
        return f".{self.projector}." in f".{parameter_name}"

    def is_vision(self, parameter_name: str) -> bool:
        """Whether a parameter belongs to the vision tower (projector excluded)."""
        return f".{self.vision}." in f".{parameter_name}" and not self.is_projector(parameter_name)


FAMILIES = {
    "llava": Family(
        "llava",
        ("llava",),
        "multi_modal_projector",
        "vision_tower",
        "language_model",
        True,
        r"vision_tower\.(?:vision_model\.)?encoder\.layers",
    ),
    "qwen2_vl": Family(
        "qwen2_vl",
        ("qwen2_vl", "qwen2_5_vl"),
        "merger",
        "visual",
        "language_model",
        False,
        r"visual\.blocks",
    ),
}


def family_for(model_type: str) -> Family:
    """The family of a ``config.model_type``."""
    for family in FAMILIES.values():
        if model_type in family.model_types:
            return family
    known = ", ".join(t for f in FAMILIES.values() for t in f.model_types)
    raise ConfigError(f"model type {model_type!r} is not supported; supported: {known}")


def family_named(name: str) -> Family:
    """The family called ``name``."""
    if name not in FAMILIES:
        raise ConfigError(f"unknown model family {name!r}; expected one of {', '.join(FAMILIES)}")
    return FAMILIES[name]
