"""Constrained decoding on both tokenizer kinds: SentencePiece (LLaVA) and byte-level BPE."""

from __future__ import annotations

import pytest

from rt_grasp_ros.prompts.formats import NO_REASONING_B_ANGLE, AnswerFormat
from rt_grasp_ros.prompts.spec import GraspPoseSpec
from rt_grasp_ros.vlm import constrained
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.constrained import AnswerGrammar, token_table
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
    grammar = AnswerGrammar(tokenizer, 0, GraspPoseSpec(fmt, 3), max_new_tokens=len(ids) + 40)
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
    builds = []
    real = constrained.sequence_texts
    monkeypatch.setattr(
        constrained, "sequence_texts", lambda tok, ids: builds.append(len(ids)) or real(tok, ids)
    )
    decodes = []
    real_decode = tokenizer.decode
    monkeypatch.setattr(
        tokenizer, "decode", lambda *a, **k: decodes.append(a) or real_decode(*a, **k)
    )
    AnswerGrammar(tokenizer, 0, GraspPoseSpec(AnswerFormat.RT, 3), max_new_tokens=40)
    assert len(builds) == 1 and builds[0] > len(tokenizer) - 20  # every (non-special) token
    assert len(decodes) < 5  # in one batch, not token by token
    for fmt in AnswerFormat:
        AnswerGrammar(tokenizer, 5, GraspPoseSpec(fmt, 3), max_new_tokens=60)
    assert len(builds) == 1 and len(decodes) < 5  # later grammars reuse the table
    tokenizer.add_tokens(["<extra_token>"])
    texts = token_table(tokenizer).texts.values()
    assert len(builds) == 2 and any(t.strip() == "<extra_token>" for t in texts)  # new size


def test_a_forced_pose_starts_with_a_bracket_token(processor):
    tokenizer = processor.tokenizer
    grammar = AnswerGrammar(tokenizer, 0, GraspPoseSpec(AnswerFormat.RT, 3), max_new_tokens=40)
    allowed = grammar._allowed("The object is", remaining=grammar.reserve)
    assert allowed and tokenizer.eos_token_id not in allowed
    assert all(grammar._strings[i].lstrip(" ").startswith("[") for i in allowed)


def test_the_answer_cannot_end_before_its_pose(processor):
    torch = pytest.importorskip("torch")
    tokenizer = processor.tokenizer
    grammar = AnswerGrammar(tokenizer, 0, GraspPoseSpec(AnswerFormat.RT, 3), max_new_tokens=60)
    reasoning = tokenizer(" It is a pen.", add_special_tokens=False)["input_ids"]
    scores = torch.zeros(1, len(tokenizer))
    scores[0, tokenizer.eos_token_id] = 10.0  # the model would rather stop here
    out = grammar(torch.tensor([reasoning]), scores.clone())
    assert out[0, tokenizer.eos_token_id] == float("-inf")
    assert torch.isfinite(out[0]).sum() == len(tokenizer) - 1  # every other token still free
