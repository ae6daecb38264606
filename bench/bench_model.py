"""Model speed: time per training step and the inference breakdown for a reasoning answer.

Prints preprocess / prefill / decode (tokens/s) / parse times and the time to a pose, and
compares decode speed with the memory-bandwidth limit (every decoded token reads all the
weights once), using the copy bandwidth measured in the same run as the baseline.

    python bench/bench_model.py --arch tiny            # CPU, seconds
    python bench/bench_model.py --arch small           # CPU, ~0.2B parameters
    python bench/bench_model.py --arch llava-1.5-7b    # GPU: LLaVA-1.5-7B, random weights
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test"))

from synthetic import bar_scene

from rt_grasp_ros.prompts.parser import parse_answer
from rt_grasp_ros.prompts.templates import load_templates
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.config import LoraConfig
from rt_grasp_ros.vlm.constrained import AnswerGrammar, TokenTable, token_table
from rt_grasp_ros.vlm.predictor import GraspPredictor
from rt_grasp_ros.vlm.processing import (
    assistant_message,
    collate,
    encode_training,
    prepare_image,
    user_message,
)
from rt_grasp_ros.vlm.strategy import apply_strategy
from rt_grasp_ros.vlm.tiny import TinySpec, build_tiny

ANSWER = (
    "The object is a mug, a cylinder with a handle on one side. The handle offers a narrow "
    "part the fingers can close around, across its loop. [0.512, 0.433], -1.047"
)
# LLaVA-1.5-7B: CLIP ViT-L/14 at 336 px, a 2-layer MLP projector, a Vicuna/Llama-2-7B decoder.
ARCHS = {
    "tiny": TinySpec(),
    "small": TinySpec(
        image_size=224,
        patch_size=14,
        vision_hidden=384,
        vision_layers=6,
        hidden=1024,
        layers=8,
        heads=16,
        vocab_size=4000,
    ),
}


def llava_7b(out: Path, corpus: list[str]) -> Path:
    """The LLaVA-1.5-7B architecture with random weights (no download), saved to ``out``."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    spec = TinySpec(image_size=336, patch_size=14, vision_hidden=1024, heads=16, vocab_size=4000)
    build_tiny(spec, corpus, out / "shell")  # tokenizer and processor at 336 px
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(out / "shell")
    vision = CLIPVisionConfig(
        hidden_size=1024,
        intermediate_size=4096,
        num_hidden_layers=24,
        num_attention_heads=16,
        image_size=336,
        patch_size=14,
        projection_dim=768,
    )
    text = LlamaConfig(
        hidden_size=4096,
        intermediate_size=11008,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=32,
        vocab_size=32064,
        max_position_embeddings=4096,
        pad_token_id=processor.tokenizer.pad_token_id,
        bos_token_id=processor.tokenizer.bos_token_id,
        eos_token_id=processor.tokenizer.eos_token_id,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
        image_token_index=processor.tokenizer.convert_tokens_to_ids("<image>"),
    )
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = AutoModelForImageTextToText.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(out / "model")
    processor.save_pretrained(out / "model")
    return out / "model"


def copy_bandwidth(device: str) -> float:
    """Bytes/s of a large tensor copy (read + write) on ``device``."""
    n = 256 * 2**20  # 1 GiB of float32
    a = torch.empty(n, device=device)
    b = torch.empty_like(a)
    b.copy_(a)
    times = []
    for _ in range(5):
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        b.copy_(a)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return 2 * a.numel() * a.element_size() / min(times)


def train_step_time(backbone, micro_batch: int, steps: int) -> float:
    model = apply_strategy(backbone.model, backbone.family, "lora", LoraConfig())
    model.train()
    image, _, _, _ = bar_scene(np.random.default_rng(0))
    messages = [user_message(load_templates().instructions[0], True), assistant_message(ANSWER)]
    example = encode_training(
        backbone.processor,
        messages,
        prepare_image(image, backbone.family, backbone.processor),
        2048,
    )
    batch = collate([example] * micro_batch, backbone.processor.tokenizer.pad_token_id)
    batch = {k: v.to(backbone.device) for k, v in batch.items()}
    if "pixel_values" in batch:
        batch["pixel_values"] = batch["pixel_values"].to(next(model.parameters()).dtype)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    times = []
    for _ in range(steps + 1):
        t = time.perf_counter()
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if backbone.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])


def constrained_report(predictor: GraspPredictor, image: np.ndarray) -> None:
    """Token-table build (once per tokenizer) and a constrained answer's time to pose."""
    tokenizer = predictor.backbone.processor.tokenizer
    budget = max(predictor.max_new_tokens, 40)  # room for a pose
    start = time.perf_counter()
    TokenTable(tokenizer)  # what every generation rebuilt before the table was shared
    build = time.perf_counter() - start
    token_table(tokenizer)  # the shared one, built now if it was not yet
    start = time.perf_counter()
    AnswerGrammar(tokenizer, 0, predictor.spec, budget)
    reuse = time.perf_counter() - start
    predictor.max_new_tokens, tokens = budget, predictor.max_new_tokens
    prediction = predictor.predict(image, constrained=True)
    predictor.max_new_tokens = tokens
    print(
        f"constrained decoding: token table {1e3 * build:.1f} ms once per tokenizer "
        f"({len(tokenizer)} tokens), {1e3 * reuse:.2f} ms per generation after; "
        f"the constrained answer parses: {prediction.ok}, "
        f"time to pose {prediction.timings['total']:.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arch", choices=[*ARCHS, "llava-1.5-7b"], default="tiny")
    parser.add_argument(
        "--tokens", type=int, default=64, help="generated tokens (a typical reasoning answer)"
    )
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    lib = load_templates()
    corpus = [t for ts in lib.reasoning.values() for t in ts] + list(lib.instructions) + [ANSWER]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = (
            llava_7b(tmp, corpus)
            if args.arch == "llava-1.5-7b"
            else build_tiny(ARCHS[args.arch], corpus, tmp / "m")
        )
        backbone = load_backbone(path, "auto", "auto")
        n_params = sum(p.numel() for p in backbone.model.parameters())
        weight_bytes = sum(p.numel() * p.element_size() for p in backbone.model.parameters())
        print(
            f"arch {args.arch}: {n_params / 1e6:.1f} M parameters, "
            f"{backbone.model.dtype}, {device}"
        )

        predictor = GraspPredictor(backbone, max_new_tokens=args.tokens)
        image, _, _, _ = bar_scene(np.random.default_rng(1))
        predictor.predict(image)  # warm-up
        runs = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            inputs = predictor._encode([image], [predictor.messages(None, None)])
            preprocess = time.perf_counter() - start
            ids, timing = predictor._generate(
                inputs, False, do_sample=False, min_new_tokens=args.tokens
            )
            t = time.perf_counter()
            predictor._decode(ids[0])
            parse_answer(ANSWER)
            parse = time.perf_counter() - t
            runs.append(
                (
                    preprocess,
                    timing["prefill"],
                    timing["decode"],
                    parse,
                    int(inputs["input_ids"].shape[1]),
                )
            )
        pre, prefill, decode, parse, prompt = (
            statistics.median(v) for v in zip(*runs, strict=True)
        )
        tok_s = (args.tokens - 1) / decode
        bandwidth = copy_bandwidth(device)
        bound = bandwidth / weight_bytes
        print(f"inference (prompt {prompt:.0f} tokens incl. image, {args.tokens} generated):")
        print(f"  preprocess {1e3 * pre:8.1f} ms")
        print(f"  prefill    {1e3 * prefill:8.1f} ms")
        print(f"  decode     {1e3 * decode:8.1f} ms  = {tok_s:,.1f} tokens/s")
        print(f"  parse      {1e3 * parse:8.3f} ms")
        print(f"  time to pose: {pre + prefill + decode + parse:.3f} s")
        print(
            f"memory-bandwidth limit: copy bandwidth {bandwidth / 1e9:.1f} GB/s over "
            f"{weight_bytes / 1e9:.3f} GB of weights = {bound:,.0f} tokens/s; "
            f"measured decode = {tok_s / bound:.2f} of the limit"
        )
        constrained_report(predictor, image)
        step = train_step_time(backbone, args.micro_batch, steps=3)
        print(
            f"training (LoRA r=64 + projector, micro batch {args.micro_batch}): "
            f"{step:.3f} s/step, "
            f"{args.micro_batch / step:.1f} samples/s"
        )


if __name__ == "__main__":
    main()
