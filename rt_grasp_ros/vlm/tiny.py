"""Tiny models of the supported families, built from configs with a locally trained tokenizer.

They have the real architectures (a CLIP or Qwen2-VL vision tower, a projector, a Llama or
Qwen2 language model) at a few hundred thousand parameters, so that training, saving,
reloading and generation run on a CPU with no downloads. ``rt-grasp train --config tiny``
(``rt_grasp_ros/vlm/configs/tiny.yaml``) builds one and trains it from scratch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.optional import require
from rt_grasp_ros.vlm.families import family_named
from rt_grasp_ros.vlm.tiny_tokenizer import SPECIAL_TOKENS, tokenizer_kind, train_tokenizer

# Chat templates in the style of each family's public checkpoints. Rendered with trim_blocks,
# so newlines are written as {{ '\n' }}.
LLAVA_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{% if not loop.first %} {% endif %}USER: "
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}<image>{{ '\\n' }}"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %} ASSISTANT:"
    "{% else %} {% for c in message['content'] %}{{ c['text'] }}{% endfor %}</s>{% endif %}"
    "{% endfor %}"
)
QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}{{ '\\n' }}"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}"
    "<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}{% endfor %}"
    "<|im_end|>{{ '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant{{ '\\n' }}{% endif %}"
)


@dataclass(frozen=True)
class TinySpec:
    """Architecture of a tiny model.

    Attributes:
        family: ``llava`` or ``qwen2_vl``.
        image_size: side of the square image the vision tower sees (pixels).
        patch_size: vision patch size (pixels).
        vision_hidden: vision tower width.
        vision_layers: vision tower depth.
        hidden: language model width.
        layers: language model depth.
        heads: attention heads (both towers).
        vocab_size: size of the locally trained vocabulary.
        seed: initialisation seed.
        tokenizer: ``sentencepiece`` (Llama's kind), ``byte_bpe`` (Qwen2's kind) or ``auto``,
            the family's own kind (:mod:`rt_grasp_ros.vlm.tiny_tokenizer`).
    """

    family: str = "llava"
    image_size: int = 64
    patch_size: int = 8
    vision_hidden: int = 64
    vision_layers: int = 2
    hidden: int = 128
    layers: int = 2
    heads: int = 4
    vocab_size: int = 600
    seed: int = 0
    tokenizer: str = "auto"

    def __post_init__(self) -> None:
        family_named(self.family)
        tokenizer_kind(self.tokenizer, self.family)
        if self.image_size % self.patch_size:
            raise ConfigError(
                f"tiny.image_size {self.image_size} must be a multiple of "
                f"tiny.patch_size {self.patch_size}"
            )
        for name in ("hidden", "vision_hidden"):
            if getattr(self, name) % self.heads:
                raise ConfigError(f"tiny.{name} must be a multiple of tiny.heads ({self.heads})")


def build_tiny(spec: TinySpec, corpus: Iterable[str], out_dir: str | Path) -> Path:
    """Build, initialise and save a tiny model with its processor to ``out_dir``."""
    torch = require("torch", "a tiny model")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    template = LLAVA_TEMPLATE if spec.family == "llava" else QWEN_TEMPLATE
    texts = [*corpus, template]
    tokenizer = train_tokenizer(texts, spec.vocab_size, spec.family, spec.tokenizer)
    torch.manual_seed(spec.seed)
    if spec.family == "llava":
        model, processor = _tiny_llava(spec, tokenizer)
    else:
        model, processor = _tiny_qwen2_vl(spec, tokenizer)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def _tiny_llava(spec: TinySpec, tokenizer: Any) -> tuple[Any, Any]:
    t = require("transformers", "a tiny LLaVA")
    from transformers.models.clip import CLIPImageProcessorPil

    vision = t.CLIPVisionConfig(
        hidden_size=spec.vision_hidden,
        intermediate_size=2 * spec.vision_hidden,
        num_hidden_layers=spec.vision_layers,
        num_attention_heads=spec.heads,
        image_size=spec.image_size,
        patch_size=spec.patch_size,
    )
    text = t.LlamaConfig(
        hidden_size=spec.hidden,
        intermediate_size=2 * spec.hidden,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        num_key_value_heads=spec.heads,
        vocab_size=len(tokenizer),
        max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    config = t.LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
    )
    model = t.AutoModelForImageTextToText.from_config(config)
    _sincos_positions(model.model.vision_tower.embeddings.position_embedding.weight, spec)
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": spec.image_size},
        crop_size={"height": spec.image_size, "width": spec.image_size},
    )
    processor = t.LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        chat_template=LLAVA_TEMPLATE,
        patch_size=spec.patch_size,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    return model, processor


def _sincos_positions(weight: Any, spec: TinySpec) -> None:
    """Start a CLIP tower's learned position embeddings at 2-D sine-cosine values (as MAE).

    At CLIP's default initialisation (std 0.02) a patch's position is invisible next to its
    content, and a model trained from scratch tends to read the answer off its own first digits
    instead of locating the object; positions it can read from the start help it locate (it
    still needs objects a few pixels wide: see test/vlm/test_learning.py). Row 0 is the class
    token (zeros).
    """
    torch = require("torch", "a tiny model")
    side = spec.image_size // spec.patch_size
    quarter = spec.vision_hidden // 4
    freq = 1.0 / (100.0 ** (torch.arange(quarter, dtype=torch.float32) / quarter))
    rows, cols = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    parts = []
    for grid in (rows.flatten(), cols.flatten()):
        angle = grid[:, None].float() * freq[None, :]
        parts += [angle.sin(), angle.cos()]
    table = torch.cat(parts, dim=1)  # (side * side, vision_hidden)
    with torch.no_grad():
        weight.zero_()
        weight[1:, : table.shape[1]] = table


def _tiny_qwen2_vl(spec: TinySpec, tokenizer: Any) -> tuple[Any, Any]:
    t = require("transformers", "a tiny Qwen2-VL")
    from transformers import Qwen2VLImageProcessorPil

    from rt_grasp_ros.vlm.backbone import ImageOnlyQwen2VLProcessor

    ids = {
        name: tokenizer.convert_tokens_to_ids(name) for name in SPECIAL_TOKENS["qwen2_vl"]["extra"]
    }
    head_dim = spec.hidden // spec.heads
    section = head_dim // 2
    mrope = [section - 2 * (section // 3), section // 3, section // 3]
    config = t.Qwen2VLConfig(
        text_config={
            "hidden_size": spec.hidden,
            "intermediate_size": 2 * spec.hidden,
            "num_hidden_layers": spec.layers,
            "num_attention_heads": spec.heads,
            "num_key_value_heads": spec.heads,
            "vocab_size": len(tokenizer),
            "max_position_embeddings": 1024,
            "rope_scaling": {"type": "mrope", "mrope_section": mrope},
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": None,
        },
        vision_config={
            "depth": spec.vision_layers,
            "embed_dim": spec.vision_hidden,
            "hidden_size": spec.hidden,
            "num_heads": spec.heads,
            "patch_size": spec.patch_size,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "in_chans": 3,
            "mlp_ratio": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    model = t.AutoModelForImageTextToText.from_config(config)
    pixels = spec.image_size * spec.image_size
    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=pixels,
        max_pixels=pixels,
        patch_size=spec.patch_size,
        merge_size=2,
        temporal_patch_size=2,
    )
    processor = ImageOnlyQwen2VLProcessor(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=QWEN_TEMPLATE
    )
    return model, processor
