"""Constrained decoding's cost per token: the hand-written AnswerGrammar and lm-format-enforcer.

For ManipLLM's contact sentence and RT-Grasp's pose, on a SentencePiece tokenizer (LLaVA's kind)
and a byte-level one (Qwen2-VL's kind), of the tiny size (600 tokens) and trained here to a real
model's size (32k tokens, on Python's own source text): the time to build each side's token data
once per tokenizer, and the time per decoding step to list the allowed tokens along a
well-formed answer (a model's answer token by token, after the prompt). The baseline in the same
run is the tokenizer's own decode of the answer so far, which every step does anyway.

lm-format-enforcer is optional: install it into a scratch environment that sees this one's
packages (its transformers integration does not import with transformers 5, so its core is fed
this project's token texts, which are the same it would compute):

    python -m venv /tmp/venv-cmp
    SITE=lib/python3.11/site-packages
    echo "$PWD/.venv/$SITE" > /tmp/venv-cmp/$SITE/main.pth
    /tmp/venv-cmp/bin/pip install lm-format-enforcer==0.11.3
    PYTHONPATH=. /tmp/venv-cmp/bin/python bench/bench_constrained.py [--large]
"""

from __future__ import annotations

import argparse
import statistics
import sysconfig
import time
from pathlib import Path
from typing import Any

from rt_grasp_ros.manip.answers import ContactSpec
from rt_grasp_ros.manip.tasks import load_task_formats
from rt_grasp_ros.prompts.spec import AnswerSpec, GraspPoseSpec
from rt_grasp_ros.vlm.constrained import AnswerGrammar, TokenTable
from rt_grasp_ros.vlm.tiny_tokenizer import train_tokenizer

FORMATS = load_task_formats()
CONTACT = FORMATS.pose.answer.format(x=140, y=110, up="(35, -34, -11)", forward="(29, 36, 17)")


def corpus(large: bool) -> list[str]:
    texts = [CONTACT, "It is a pen. [0.512, 0.433], -1.047", FORMATS.category.answer]
    texts += [FORMATS.reasoning.questions[0].format(**n) for n in FORMATS.names.values()]
    if large:  # enough text for 32k merges
        lib = Path(sysconfig.get_paths()["stdlib"])
        for path in sorted(lib.glob("*.py"))[:400]:
            texts += path.read_text(encoding="utf-8", errors="ignore").splitlines()
    return texts


def answer_ids(tokenizer: Any, answer: str, sentencepiece: bool) -> list[int]:
    # LLaVA's template puts a space before the answer; Qwen2-VL's a newline (not generated).
    text = " " + answer if sentencepiece else answer
    before = tokenizer("ASSISTANT:", add_special_tokens=False)["input_ids"]
    whole = tokenizer("ASSISTANT:" + text, add_special_tokens=False)["input_ids"]
    return whole[len(before) :]


def steps(tokenizer: Any, ids: list[int]) -> list[str]:
    return [tokenizer.decode(ids[:k], skip_special_tokens=True) for k in range(len(ids) + 1)]


def time_ours(tokenizer: Any, spec: AnswerSpec, ids: list[int]) -> dict[str, float]:
    start = time.perf_counter()
    TokenTable(tokenizer).tree(spec.chars() | {" "})  # what token_table() keeps per tokenizer
    build = time.perf_counter() - start
    grammar = AnswerGrammar(tokenizer, 0, spec, spec.longest() + 2)
    grammar.max_new_tokens = grammar.reserve + len(ids)  # free text stays free
    texts = steps(tokenizer, ids)
    times, missed = [], 0
    for k, text in enumerate(texts[:-1]):
        t = time.perf_counter()
        allowed = grammar._allowed(text, grammar.max_new_tokens - k)
        times.append(time.perf_counter() - t)
        missed += allowed is not None and ids[k] not in allowed
    return {"build": build, "step": statistics.median(times), "missed": missed}


def time_lmfe(tokenizer: Any, spec: AnswerSpec, ids: list[int]) -> dict[str, float] | None:
    try:
        from lmformatenforcer import RegexParser
        from lmformatenforcer.tokenenforcer import TokenEnforcer, TokenEnforcerTokenizerData
    except ImportError:
        return None
    start = time.perf_counter()
    table = TokenTable(tokenizer)  # the same texts lm-format-enforcer's builder computes
    words = {i: t.startswith(" ") for i, t in table.texts.items()}
    regular = [(i, t, words[i]) for i, t in table.texts.items()]
    data = TokenEnforcerTokenizerData(
        regular, tokenizer.decode, tokenizer.eos_token_id, False, len(tokenizer)
    )
    build = time.perf_counter() - start
    # The whole answer as one regex: free text before the opener (RT-Grasp's reasoning).
    free = r"[^\[]*" if spec.opener else r" ?"
    enforcer = TokenEnforcer(data, RegexParser(free + spec.pattern()))
    times, missed = [], 0
    for k in range(len(ids)):
        t = time.perf_counter()
        allowed = enforcer.get_allowed_tokens(ids[:k]).allowed_tokens
        times.append(time.perf_counter() - t)
        missed += ids[k] not in allowed
    return {"build": build, "step": statistics.median(times), "missed": missed}


def time_decode(tokenizer: Any, ids: list[int]) -> float:
    times = []
    for k in range(len(ids)):
        t = time.perf_counter()
        tokenizer.decode(ids[:k], skip_special_tokens=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 32k-token tokenizers")
    args = parser.parse_args()
    sizes = [600] + ([32000] if args.large else [])
    specs = {"contact": ContactSpec(FORMATS, 336, 336), "grasp": GraspPoseSpec()}
    answers = {"contact": CONTACT, "grasp": "It is a pen. [0.512, 0.433], -1.047"}
    for size in sizes:
        texts = corpus(size > 600)
        for kind, family in (("sentencepiece", "llava"), ("byte_bpe", "qwen2_vl")):
            tokenizer = train_tokenizer(texts, size, family, kind)
            for name, spec in specs.items():
                ids = answer_ids(tokenizer, answers[name], kind == "sentencepiece")
                base = time_decode(tokenizer, ids)
                ours = time_ours(tokenizer, spec, ids)
                theirs = time_lmfe(tokenizer, spec, ids)
                line = (
                    f"{kind:13s} {len(tokenizer):6d} tokens {name:7s}: decode {1e3 * base:.3f} ms"
                    f" | ours build {ours['build']:.2f} s, step {1e3 * ours['step']:.3f} ms "
                    f"({ours['step'] / base:.1f}x decode), missed {ours['missed']}"
                )
                if theirs is not None:
                    line += (
                        f" | lm-format-enforcer build {theirs['build']:.2f} s, step "
                        f"{1e3 * theirs['step']:.3f} ms ({theirs['step'] / base:.1f}x decode), "
                        f"missed {theirs['missed']}"
                    )
                print(line, flush=True)


if __name__ == "__main__":
    main()
