"""ManipLLM's chain of thought on tiny untrained models of both tokenizer kinds."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from rt_grasp_ros.manip.answers import ContactSpec
from rt_grasp_ros.manip.predictor import ContactPredictor
from rt_grasp_ros.manip.tasks import chain_of_thought, load_task_formats
from rt_grasp_ros.prompts.spec import Parsed
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.constrained import AnswerGrammar
from rt_grasp_ros.vlm.predictor import GraspPredictor
from rt_grasp_ros.vlm.processing import (
    assistant_message,
    continuation_ids,
    render,
    user_message,
)

FORMATS = load_task_formats()


@pytest.fixture(scope="module")
def predictor(tiny_manip):
    backbone = load_backbone(tiny_manip, "float32", "cpu")
    return ContactPredictor(GraspPredictor(backbone, max_new_tokens=40), reasoning_tokens=12)


def image(seed: int, width: int = 96, height: int = 72) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_the_chain_of_thought_is_three_turns_of_one_conversation(predictor):
    answer = predictor.predict(image(0))
    assert [t.kind for t in answer.turns] == ["category", "reasoning", "pose"]
    category, reasoning, pose = answer.turns
    assert answer.category in answer.candidates and answer.candidates[0] == answer.category
    assert FORMATS.names_for(answer.category)["category"] == answer.named_category
    prompts = chain_of_thought(FORMATS, answer.category)
    assert [t.question for t in answer.turns] == prompts  # the reasoning names that category
    # one conversation: each turn's prompt holds the turns before it
    assert reasoning.prediction.prompt_tokens >= (
        category.prediction.prompt_tokens + category.prediction.generated_tokens
    )
    assert pose.prediction.prompt_tokens >= (
        reasoning.prediction.prompt_tokens + reasoning.prediction.generated_tokens
    )
    assert answer.ok and answer.error is None
    assert answer.chain == [t.prediction.text for t in answer.turns]
    assert answer.reasoning == reasoning.prediction.text
    assert answer.generated_tokens == sum(t.prediction.generated_tokens for t in answer.turns)
    assert answer.timings["total"] == pytest.approx(
        sum(answer.timings[k] for k in ("preprocess", "prefill", "decode", "parse"))
    )
    assert json.loads(json.dumps(answer.to_json()))["turns"][2]["kind"] == "pose"


def test_without_the_chain_of_thought_only_the_pose_prompt_is_asked(predictor):
    with_cot = predictor.predict(image(1))
    alone = predictor.predict(image(1), cot=False)
    assert [t.kind for t in alone.turns] == ["pose"] and not alone.cot
    assert alone.category is None and alone.named_category is None
    assert alone.turns[0].question == FORMATS.pose.questions[0]
    assert alone.ok
    assert alone.prompt_tokens < with_cot.turn("pose").prediction.prompt_tokens


@pytest.mark.parametrize("seed, size", [(2, (96, 72)), (3, (336, 336)), (4, (40, 300))])
def test_constrained_decoding_always_ends_in_a_contact_on_the_image(predictor, seed, size):
    width, height = size
    answer = predictor.predict(image(seed, width, height))
    contact = answer.contact
    assert contact is not None, answer.error
    assert 0 <= contact.x <= width and 0 <= contact.y <= height
    assert np.linalg.norm(contact.up) == pytest.approx(1)
    assert abs(np.dot(contact.up, contact.forward)) < 1e-9
    text = answer.turns[-1].prediction.text
    spec = ContactSpec(FORMATS, width, height)
    assert spec.parse(text) == Parsed(contact)  # the one parser reads what was decoded


def test_an_untrained_model_decoding_freely_gives_no_contact(predictor):
    free = ContactPredictor(predictor.predictor, constrained=False, reasoning_tokens=4)
    answer = free.predict(image(5))
    assert not answer.ok
    assert answer.error.startswith(("category: ", "pose: "))


def test_the_grammar_allows_every_token_of_a_well_formed_contact_answer(predictor):
    processor = predictor.predictor.backbone.processor
    tokenizer = processor.tokenizer
    spec = ContactSpec(FORMATS, 336, 336)
    answer = FORMATS.pose.answer.format(x=0, y=336, up="(-50, 0, 7)", forward="(13, 49, -2)")
    asked = [user_message("Where?", True)]
    prompt = render(processor, asked, add_generation_prompt=True)
    full = render(processor, [*asked, assistant_message(answer)], add_generation_prompt=False)
    trained = full[len(prompt) :].split(tokenizer.eos_token)[0]  # as the answer is trained
    ids = continuation_ids(tokenizer, prompt, trained)
    grammar = AnswerGrammar(tokenizer, 0, spec, max_new_tokens=spec.longest() + 2)
    for step, token in enumerate(ids):
        text = tokenizer.decode(ids[:step], skip_special_tokens=True)
        allowed = grammar._allowed(text, grammar.max_new_tokens - step)
        assert token in allowed, (text, tokenizer.convert_ids_to_tokens([token]))
    done = tokenizer.decode(ids, skip_special_tokens=True)
    assert grammar._allowed(done, 10) == [tokenizer.eos_token_id]
    assert tokenizer.eos_token_id not in grammar._allowed("", grammar.max_new_tokens)


def test_the_prefix_tree_walk_allows_exactly_the_tokens_a_full_scan_allows(predictor):
    tokenizer = predictor.predictor.backbone.processor.tokenizer
    spec = ContactSpec(FORMATS, 336, 336)
    grammar = AnswerGrammar(tokenizer, 0, spec, max_new_tokens=spec.longest() + 2)
    answer = FORMATS.pose.answer.format(x=17, y=300, up="(0, 0, 50)", forward="(0, 3")
    for end in range(0, len(answer), 7):
        stem = answer[:end]
        scan = {
            i
            for i, s in grammar._strings.items()
            if (text := stem + s if stem else s.lstrip(" "))
            and grammar.pattern.fullmatch(text, partial=True)
            and spec.admits(text)
        }
        assert set(grammar._allowed(stem, 10)) == (scan or {tokenizer.eos_token_id}), stem
