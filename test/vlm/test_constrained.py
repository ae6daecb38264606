"""Constrained decoding on both tokenizer kinds: SentencePiece (LLaVA) and byte-level BPE."""

from __future__ import annotations

import pytest

from rt_grasp_ros.prompts.formats import NO_REASONING_B_ANGLE, AnswerFormat
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.constrained import PoseGrammar, token_table
from rt_grasp_ros.vlm.processing import continuation_ids, render, user_message

ANSWERS = {
    AnswerFormat.RT: "It is a pen. [0.512, 0.433], -1.047",
    AnswerFormat.NO_REASONING_B: f"[0.512, 1.000] {NO_REASONING_B_ANGLE} 0.047",
}


@pytest.fixture
def processor(tiny_base):
    return load_backbone(tiny_base, "float32", "cpu").processor


def answer_tokens(processor, answer: str) -> list[int]:
    """The answer's tokens as they follow the prompt in the whole string (what a model emits)."""
    prompt = render(processor, [user_message("Grasp it.", True)], add_generation_prompt=True)
    return continuation_ids(processor.tokenizer, prompt, " " + answer)


@pytest.mark.parametrize("fmt", list(ANSWERS))
def test_the_grammar_allows_every_token_of_a_well_formed_answer(processor, fmt):
    # The bug on SentencePiece: "▁" decodes to "" on its own, so after "[0.512," the space
    # could never be emitted and the grammar forced EOS.
    tokenizer = processor.tokenizer
    ids = answer_tokens(processor, ANSWERS[fmt])
    grammar = PoseGrammar(tokenizer, 0, fmt, 3, max_new_tokens=len(ids) + 40)
    for step, token in enumerate(ids):
        text = tokenizer.decode(ids[:step], skip_special_tokens=True)
        allowed = grammar._allowed(text, grammar.max_new_tokens - step)
        shown = tokenizer.convert_ids_to_tokens([token])
        assert allowed is None or token in allowed, (text, shown)
    done = tokenizer.decode(ids, skip_special_tokens=True)
    assert grammar._allowed(done, 40) == [tokenizer.eos_token_id]


def test_token_texts_keep_the_sentencepiece_space(tiny_base):
    tokenizer = load_backbone(tiny_base, "float32", "cpu").processor.tokenizer
    texts = token_table(tokenizer).texts
    vocab = tokenizer.get_vocab()
    if "▁" in vocab:  # SentencePiece: the marker alone, and the byte-fallback space
        assert texts[vocab["▁"]] == " " and texts[vocab["<0x20>"]] == " "
        assert tokenizer.decode([vocab["▁"]]) == ""  # what decoding one token alone gives
    else:  # byte-level BPE: Ġ is the space
        assert texts[vocab["Ġ"]] == " "
    spaced = [t for t in texts.values() if t.startswith(" ") and t.strip()]
    assert spaced, "no token starts with a space"


def test_the_token_table_is_built_once_per_tokenizer(tiny_base, monkeypatch):
    tokenizer = load_backbone(tiny_base, "float32", "cpu").processor.tokenizer  # a fresh one
    calls = []
    for name in ("decode", "batch_decode"):
        real = getattr(tokenizer, name)
        monkeypatch.setattr(
            tokenizer,
            name,
            lambda *a, _real=real, _name=name, **k: (calls.append(_name), _real(*a, **k))[1],
        )
    PoseGrammar(tokenizer, 0, AnswerFormat.RT, 3, max_new_tokens=40)
    first = len(calls)
    assert first > 0
    for fmt in AnswerFormat:
        PoseGrammar(tokenizer, 5, fmt, 3, max_new_tokens=60)
    assert len(calls) == first  # later grammars reuse the table: no decoding at all
    tokenizer.add_tokens(["<extra_token>"])
    texts = token_table(tokenizer).texts.values()
    assert any(t.strip() == "<extra_token>" for t in texts)  # rebuilt for the new size


def test_a_forced_pose_starts_with_a_bracket_token(processor):
    tokenizer = processor.tokenizer
    grammar = PoseGrammar(tokenizer, 0, AnswerFormat.RT, 3, max_new_tokens=40)
    allowed = grammar._allowed("The object is", remaining=grammar.reserve)
    assert allowed and tokenizer.eos_token_id not in allowed
    assert all(grammar._strings[i].lstrip(" ").startswith("[") for i in allowed)
