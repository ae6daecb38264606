from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from rt_grasp_ros.errors import ConfigError
from rt_grasp_ros.vlm.backbone import load_backbone
from rt_grasp_ros.vlm.config import DistributedConfig, OptimConfig, load_train_config
from rt_grasp_ros.vlm.distributed import (
    deepspeed_config,
    engine_arguments,
    validates_in_training,
)


def test_accumulation_keeps_the_effective_batch_over_processes():
    optim = OptimConfig(batch_size=32, micro_batch_size=4)
    assert [optim.accumulation_for(n) for n in (1, 2, 4, 8)] == [8, 4, 2, 1]
    with pytest.raises(ConfigError, match=r"optim.batch_size \(32\).*\(4\) x 3 processes = 12"):
        optim.accumulation_for(3)
    with pytest.raises(ConfigError, match=r"optim\.batch_size"):
        optim.accumulation_for(16)  # 16 processes x 4 would be a batch of 64


def test_engines_become_trainer_arguments():
    assert engine_arguments(DistributedConfig(engine="fsdp"), 1) == {}  # one process: plain
    assert engine_arguments(DistributedConfig(), 2) == {"ddp_find_unused_parameters": False}
    fsdp = engine_arguments(DistributedConfig(engine="fsdp", fsdp="shard_grad_op"), 4)
    assert fsdp["fsdp"] == "shard_grad_op"
    for stage in ("zero2", "zero3"):
        ds = engine_arguments(DistributedConfig(engine="deepspeed", deepspeed=stage), 8)
        settings = json.loads(Path(ds["deepspeed"]).read_text())
        assert settings["zero_optimization"]["stage"] == int(stage[-1])
        assert settings["train_batch_size"] == "auto"  # the Trainer fills in our batch
    assert validates_in_training(DistributedConfig(), 2)
    assert not validates_in_training(DistributedConfig(engine="fsdp"), 2)
    assert validates_in_training(DistributedConfig(engine="fsdp"), 1)


def test_bad_engine_settings_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"distributed\.engine must be one of ddp, fsdp"):
        load_train_config("llava-lora", ["distributed.engine=horovod"])
    with pytest.raises(ConfigError, match=r"distributed\.deepspeed: 'zero9'"):
        deepspeed_config("zero9")
    own = tmp_path / "ds.json"
    own.write_text("{}")
    assert deepspeed_config(str(own)) == own


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(
    config_file, data, out, processes: int, resume: bool = False
) -> subprocess.CompletedProcess:
    launcher = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={processes}",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
    ]
    command = ["-m", "rt_grasp_ros.cli.main", "train", "--config", str(config_file)]
    command += ["--data", str(data), "--output", str(out), "--no-progress"]
    command += ["--resume"] if resume else []
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    return subprocess.run(launcher + command, capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.slow
def test_two_gloo_processes_match_one_with_the_same_effective_batch(
    tiny_data, tmp_path, tiny_llava
):
    # A batch of all 8 samples makes each step see the same samples, whatever the sharding.
    config = {
        "model": {"base": str(tiny_llava), "dtype": "float32", "device": "cpu"},
        "strategy": "projector",
        "optim": {
            "learning_rate": 1e-2,
            "batch_size": 8,
            "micro_batch_size": 4,
            "max_steps": 3,
            "warmup_ratio": 0.0,
        },
        "logging_steps": 1,
        "save_steps": 2,
    }
    config_file = tmp_path / "ddp.yaml"
    config_file.write_text(yaml.safe_dump(config))
    runs = {}
    for processes in (1, 2):
        out = tmp_path / f"p{processes}"
        done = _train(config_file, tiny_data.root, out, processes)
        assert done.returncode == 0, done.stderr[-4000:]
        # Rank 0 alone reports and writes.
        assert done.stdout.count("fold 0: 3 steps") == 1, done.stdout
        assert (out / "training_curve.png").is_file() and (out / "train_log.json").is_file()
        checkpoint = out / "trainer" / "checkpoint-2"
        # The effective batch is the configured one: micro batch x accumulation x processes.
        args = torch.load(checkpoint / "training_args.bin", weights_only=False)
        per_process = args.per_device_train_batch_size * args.gradient_accumulation_steps
        assert per_process * processes == 8
        runs[processes] = load_file(out / "weights.safetensors")
    base = dict(load_backbone(tiny_llava, "float32", "cpu").model.named_parameters())
    assert runs[1].keys() == runs[2].keys()
    for name, one in runs[1].items():
        assert not one.equal(base[name].detach()), name  # it trained
        assert one.allclose(runs[2][name], atol=1e-5, rtol=1e-4), name

    # Resume under torchrun: the two-process run continues from its last checkpoint.
    config["optim"]["max_steps"] = 4
    config_file.write_text(yaml.safe_dump(config))
    resumed = _train(config_file, tiny_data.root, tmp_path / "p2", 2, resume=True)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert resumed.stdout.count("fold 0: 4 steps") == 1, resumed.stdout
    log = json.loads((tmp_path / "p2" / "train_log.json").read_text())
    assert [h["step"] for h in log if "loss" in h] == [1, 2, 3, 4]
