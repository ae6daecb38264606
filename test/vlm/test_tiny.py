"""Tiny models built from configs: where they start."""

from __future__ import annotations

import torch
from transformers import AutoModelForImageTextToText


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
