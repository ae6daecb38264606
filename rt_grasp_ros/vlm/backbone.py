"""Loading image-text-to-text models and their processors (hub id or local path)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rt_grasp_ros.errors import ConfigError, RtGraspError
from rt_grasp_ros.optional import require
from rt_grasp_ros.vlm.families import Family, family_for

log = logging.getLogger(__name__)
# The model dtypes a user may ask for; ``auto`` (the default) is bfloat16 on a GPU that has it
# and float32 elsewhere (a CPU, or an older GPU).
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEFAULT_DTYPE = "auto"


@dataclass
class Backbone:
    """A model, its processor and its family."""

    model: Any
    processor: Any
    family: Family
    source: str

    @property
    def device(self) -> Any:
        """The device of the model's parameters."""
        return next(self.model.parameters()).device


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``."""
    torch = require("torch", "the grasp model")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} was asked for, but no CUDA GPU is visible")
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    """``auto`` -> bfloat16 on a GPU that supports it, float32 otherwise."""
    torch = require("torch", "the grasp model")
    if dtype not in DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
    if dtype == "auto":
        bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if bf16 else torch.float32
    return getattr(torch, dtype)


@lru_cache(maxsize=1)
def _image_only_qwen2_vl_class() -> type:
    transformers = require("transformers", "Qwen2-VL")
    from transformers.processing_utils import ProcessorMixin

    class ImageOnlyQwen2VLProcessor(transformers.Qwen2VLProcessor):
        """Qwen2-VL's processor without its video part, which needs torchvision."""

        @classmethod
        def get_attributes(cls) -> list[str]:
            return ["image_processor", "tokenizer"]

        def __init__(
            self,
            image_processor: Any = None,
            tokenizer: Any = None,
            chat_template: Any = None,
            **kw: Any,
        ):
            self.image_token = getattr(tokenizer, "image_token", "<|image_pad|>")
            self.video_token = getattr(tokenizer, "video_token", "<|video_pad|>")
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    return ImageOnlyQwen2VLProcessor


def ImageOnlyQwen2VLProcessor(**kwargs: Any) -> Any:  # noqa: N802 (a class factory)
    """Build Qwen2-VL's processor for images only (works without torchvision)."""
    return _image_only_qwen2_vl_class()(**kwargs)


def load_processor(source: str, family: Family) -> Any:
    """The processor saved with a model; Qwen2-VL falls back to its image-only variant."""
    transformers = require("transformers", "the grasp model")
    try:
        processor = transformers.AutoProcessor.from_pretrained(source)
        if not hasattr(processor, "image_processor"):  # AutoProcessor fell back to a tokenizer
            raise ValueError(f"no image processor found, got a {type(processor).__name__}")
        return processor
    except (ValueError, ImportError, AttributeError, TypeError) as exc:
        if family.name != "qwen2_vl":
            raise RtGraspError(f"cannot load the processor of {source!r}: {exc}") from exc
        log.info(
            "Qwen2-VL's full processor is unavailable (%s); using the image-only processor", exc
        )
    from transformers import Qwen2VLImageProcessorPil

    tokenizer = transformers.AutoTokenizer.from_pretrained(source)
    template_file = Path(source) / "chat_template.jinja"
    template = (
        template_file.read_text()
        if template_file.exists()
        else getattr(tokenizer, "chat_template", None)
    )
    return ImageOnlyQwen2VLProcessor(
        image_processor=Qwen2VLImageProcessorPil.from_pretrained(source),
        tokenizer=tokenizer,
        chat_template=template,
    )


def load_backbone(
    source: str | Path, dtype: str = DEFAULT_DTYPE, device: str = "auto"
) -> Backbone:
    """Load a model by hub id or local path, with its processor.

    Raises:
        RtGraspError: the model cannot be found, or is not an image-text-to-text model of a
            supported family.
    """
    transformers = require("transformers", "the grasp model")
    source = str(source)
    try:
        config = transformers.AutoConfig.from_pretrained(source)
    except (OSError, ValueError) as exc:
        where = (
            "a local folder" if Path(source).exists() else "a local folder or a reachable hub id"
        )
        raise RtGraspError(
            f"cannot load model {source!r}: it is not {where} with a model config.json ({exc})"
        ) from exc
    try:
        family = family_for(config.model_type)
    except ConfigError as exc:
        raise RtGraspError(
            f"{source!r} is not a supported image-text-to-text model: {exc}"
        ) from exc
    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    try:
        model = transformers.AutoModelForImageTextToText.from_pretrained(source, dtype=torch_dtype)
    except (OSError, ValueError) as exc:
        raise RtGraspError(f"cannot load the weights of {source!r}: {exc}") from exc
    model.to(device)
    processor = load_processor(source, family)
    return Backbone(model, processor, family, source)
