import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from engine.data.photo_folder import PhotoFolderDataset
from engine.training.distributed import DistributedContext
from engine.training.recipes import get_recipe
from engine.training.trainer import Trainer
from tests.helpers import real_photos


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _train_rank(rank, world_size, port, recipe_name, out_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        recipe = get_recipe(recipe_name, batch_size=2)
        photos = real_photos()
        labels = [i % 2 for i in range(len(photos))] if recipe.architecture == "unet-class" else None
        trainer = Trainer(
            recipe,
            PhotoFolderDataset(photos, labels),
            out_dir,
            width=8,
            num_classes=2 if labels else None,
            max_steps=2,
            checkpoint_every=0,
            validate_every=0,
            device="cpu",
            distributed=DistributedContext(rank, world_size, rank),
        )
        trainer.fit()
        torch.save(
            {"generator": trainer.generator.state_dict(), "discriminator": trainer.discriminator.state_dict()},
            os.path.join(out_dir, f"rank{rank}.pt"),
        )
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("recipe_name", ["pix2pix", "wgan-gp-class"])
def test_two_ranks_end_with_equal_weights(tmp_path, recipe_name):
    mp.spawn(_train_rank, args=(2, _free_port(), recipe_name, str(tmp_path)), nprocs=2, join=True)
    first = torch.load(tmp_path / "rank0.pt", weights_only=True)
    second = torch.load(tmp_path / "rank1.pt", weights_only=True)
    initial = Trainer(get_recipe(recipe_name, batch_size=2), PhotoFolderDataset(real_photos()), tmp_path / "x",
                      width=8, num_classes=2 if "class" in recipe_name else None, device="cpu")
    for network in ("generator", "discriminator"):
        parameters = dict(getattr(initial, network).named_parameters())
        for name in parameters:
            assert torch.equal(first[network][name], second[network][name]), f"{network}.{name} differs"
        changed = any(not torch.equal(first[network][n], p.detach()) for n, p in parameters.items())
        assert changed, f"{network} did not train"
    # Only the main process writes checkpoints.
    assert (tmp_path / "checkpoints" / "last.pt").exists()


def test_torchrun_command_line(tmp_path):
    data = str(real_photos()[0].parent)
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port", str(_free_port()),
        "-m", "engine", "train", "--data", data, "--val", data, "--out", str(tmp_path / "run"),
        "--width", "8", "--batch-size", "2", "--max-steps", "1", "--device", "cpu", "--threads", "1",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rank 1 of 2" in result.stderr
    assert (tmp_path / "run" / "checkpoints" / "last.pt").exists()
