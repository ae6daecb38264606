"""Tokenizers for tiny models, trained here on the dataset's text, of the real families' kinds.

- ``sentencepiece`` (LLaVA-1.5's kind): a SentencePiece BPE model with byte fallback, digits
  split one per token and the ``▁`` word marker, converted by transformers' Llama tokenizer and
  saved with the pipeline of Llama-2's and LLaVA-1.5's ``tokenizer.json`` (a ``▁`` prepended to
  every text between special tokens, spaces replaced by ``▁``, no pre-tokenizer), which
  ``AutoTokenizer`` loads as written, as it loads a real LLaVA-1.5 checkpoint's.
- ``byte_bpe`` (Qwen2-VL's kind): byte-level BPE (``Ġ`` marks a space), digits split.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.optional import require

TOKENIZER_KINDS = ("auto", "sentencepiece", "byte_bpe")
FAMILY_TOKENIZER = {"llava": "sentencepiece", "qwen2_vl": "byte_bpe"}
SPECIAL_TOKENS = {
    "llava": {"pad": "<pad>", "bos": "<s>", "eos": "</s>", "extra": ["<image>"]},
    "qwen2_vl": {
        "pad": "<|endoftext|>",
        "bos": None,
        "eos": "<|im_end|>",
        "extra": [
            "<|im_start|>",
            "<|vision_start|>",
            "<|vision_end|>",
            "<|image_pad|>",
            "<|video_pad|>",
        ],
    },
}
# SentencePiece's own special pieces (ids 0-2, as in Llama); pad and extra ones are added.
SP_UNK = "<unk>"


def tokenizer_kind(kind: str, family: str) -> str:
    """The tokenizer kind to build: ``auto`` is the family's own kind."""
    if kind not in TOKENIZER_KINDS:
        raise ConfigError(
            f"tiny.tokenizer must be one of {', '.join(TOKENIZER_KINDS)}, got {kind!r}"
        )
    return FAMILY_TOKENIZER[family] if kind == "auto" else kind


def train_tokenizer(texts: Iterable[str], vocab_size: int, family: str, kind: str = "auto") -> Any:
    """A tokenizer of ``kind`` trained on ``texts``, with ``family``'s special tokens."""
    texts = [t for t in texts if t]
    if tokenizer_kind(kind, family) == "sentencepiece":
        return train_sentencepiece(texts, vocab_size, family)
    return train_byte_bpe(texts, vocab_size, family)


def train_sentencepiece(texts: list[str], vocab_size: int, family: str) -> Any:
    """A Llama-style SentencePiece BPE tokenizer (``vocab_size`` counts the 256 byte pieces)."""
    spm = require("sentencepiece", "a tiny model's SentencePiece tokenizer")
    transformers = require("transformers", "a tiny model's tokenizer")
    special = SPECIAL_TOKENS[family]
    if special["bos"] is None:
        raise ConfigError(f"a SentencePiece tokenizer needs a bos token; {family} has none")
    model = io.BytesIO()
    # Llama's trainer settings where they matter here: BPE, byte fallback, split digits, the
    # dummy prefix (a leading ▁), whitespace kept as written; unk/bos/eos are ids 0/1/2.
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        split_digits=True,
        add_dummy_prefix=True,
        remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True,
        normalization_rule_name="identity",
        character_coverage=1.0,
        hard_vocab_limit=False,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        unk_piece=SP_UNK,
        bos_piece=special["bos"],
        eos_piece=special["eos"],
        num_threads=1,
        minloglevel=2,
    )
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "tokenizer.model").write_bytes(model.getvalue())
        tokenizer = transformers.LlamaTokenizer.from_pretrained(
            folder,
            add_bos_token=True,
            pad_token=special["pad"],
            extra_special_tokens=special["extra"],
        )
    normalizers = require("tokenizers.normalizers", "a tiny model's tokenizer")
    backend = tokenizer.backend_tokenizer
    backend.normalizer = normalizers.Sequence(
        [normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]
    )
    backend.pre_tokenizer = None
    return tokenizer


def train_byte_bpe(texts: list[str], vocab_size: int, family: str) -> Any:
    """A byte-level BPE tokenizer trained on ``texts``, with digits split one per token."""
    tokenizers = require("tokenizers", "a tiny model's tokenizer")
    transformers = require("transformers", "a tiny model's tokenizer")
    special = SPECIAL_TOKENS[family]
    names = [t for t in (special["pad"], special["bos"], special["eos"]) if t] + special["extra"]
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    pre = tokenizers.pre_tokenizers
    tok.pre_tokenizer = pre.Sequence(
        [pre.Digits(individual_digits=True), pre.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=names,
        initial_alphabet=pre.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=special["pad"],
        bos_token=special["bos"],
        eos_token=special["eos"],
        additional_special_tokens=special["extra"],
    )
    if special["bos"]:
        fast.add_bos_token = True
    return fast
