"""Tiny models built from configs: where they start, and their tokenizers' kinds."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForImageTextToText, AutoTokenizer

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.vlm.config import load_train_config
from rt_grasp_ros.vlm.default import default_model_dir
from rt_grasp_ros.vlm.tiny import TinySpec


def test_tiny_llava_patches_start_with_positions_it_can_read(tiny_llava):
    model = AutoModelForImageTextToText.from_pretrained(tiny_llava)
    table = model.model.vision_tower.embeddings.position_embedding.weight.detach()
    patches = table[1:]  # row 0: the class token
    assert torch.count_nonzero(table[0]) == 0
    # Every patch has a position of its own, far apart: the nearest other patch is more than
    # 1.0 away (1.47 here), where CLIP's default start (std 0.02) puts them about 0.16 apart.
    distances = torch.cdist(patches, patches) + torch.eye(len(patches)) * 1e9
    assert distances.min() > 1.0
    # Neighbours are closer than far patches (a 2-D layout, not random codes).
    side = int(len(patches) ** 0.5)
    assert distances[0, 1] < distances[0, side - 1]
    assert distances[0, side] < distances[0, side * (side - 1)]


def test_each_tiny_family_has_its_real_tokenizer_kind(tiny_base):
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    vocab = tokenizer.get_vocab()
    text = "Grasp the pen at 0.512 é"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    pieces = tokenizer.convert_ids_to_tokens(ids)
    assert {"5", "1", "2"} <= set(pieces)  # digits one per token, in both kinds
    assert tokenizer.decode(ids) == text
    if tokenizer.eos_token == "<|im_end|>":  # Qwen2-VL: byte-level BPE, Ġ marks a space
        assert "Ġthe" in pieces and "▁" not in vocab
        return
    # LLaVA: Llama's SentencePiece kind (unk/bos/eos at 0/1/2, byte fallback, ▁ marker).
    assert [vocab[t] for t in ("<unk>", "<s>", "</s>")] == [0, 1, 2]
    assert {"<0x00>", "<0xFF>", "▁"} <= set(vocab)
    assert pieces[1:3] == ["▁the", "▁pen"]
    assert pieces[-2:] == ["<0xC3>", "<0xA9>"]  # é is not in the vocabulary: its UTF-8 bytes are
    assert tokenizer(text)["input_ids"][0] == tokenizer.bos_token_id
    # As Llama-2's and LLaVA-1.5's tokenizer.json: a text on its own gets a "▁" prepended.
    assert tokenizer.tokenize(" pen") == ["▁", "▁pen"] and tokenizer.tokenize("pen") == ["▁pen"]


def test_tokenizer_kinds_are_checked_and_the_shipped_recipe_keeps_its_own():
    with pytest.raises(ConfigError, match=r"tiny\.tokenizer must be one of auto, sentencepiece"):
        TinySpec(tokenizer="wordpiece")
    assert TinySpec(family="qwen2_vl", tokenizer="sentencepiece").tokenizer == "sentencepiece"
    # The shipped default model was trained with byte-level BPE: its recipe rebuilds that.
    assert load_train_config("sim-default").model.tiny.tokenizer == "byte_bpe"
    shipped = default_model_dir() / "processor"
    if (shipped / "tokenizer.json").exists():
        assert "Ġ" in "".join(AutoTokenizer.from_pretrained(shipped).tokenize("a pen"))
