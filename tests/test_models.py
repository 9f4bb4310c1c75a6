import pytest
import torch

from engine.models import ClassificationUNetGenerator, PatchDiscriminator, UNetGenerator, build_generator


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_unet_parameter_count_width_64():
    assert _count(UNetGenerator(64)) == 54_410_882


def test_classification_unet_parameter_count_width_64():
    assert _count(ClassificationUNetGenerator(64, num_classes=205)) == 97_096_015


def test_discriminator_parameter_count_width_64():
    assert _count(PatchDiscriminator(64)) == 2_765_569


def test_critic_has_no_batchnorm():
    critic = PatchDiscriminator(16, batch_norm=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())


@pytest.fixture
def l_batch():
    torch.manual_seed(0)
    return torch.rand(2, 1, 256, 256) * 2 - 1


def test_unet_output_shape_and_range(l_batch):
    model = UNetGenerator(8).eval()
    with torch.no_grad():
        ab = model(l_batch)
    assert ab.shape == (2, 2, 256, 256)
    assert ab.min() >= -1.0
    assert ab.max() <= 1.0


def test_classification_unet_outputs(l_batch):
    model = ClassificationUNetGenerator(8, num_classes=7).eval()
    with torch.no_grad():
        ab, logits = model(l_batch)
    assert ab.shape == (2, 2, 256, 256)
    assert ab.abs().max() <= 1.0
    assert logits.shape == (2, 7)


def test_classification_unet_uses_given_fusion_vector(l_batch):
    model = ClassificationUNetGenerator(8, num_classes=5).eval()
    with torch.no_grad():
        fusion, _ = model.global_features(l_batch)
        own, own_logits = model(l_batch)
        given, logits = model(l_batch, fusion_vector=fusion)
        other, _ = model(l_batch, fusion_vector=torch.full_like(fusion, 5.0))
    assert own_logits is not None
    assert logits is None
    assert torch.allclose(given, own, atol=1e-6)
    # Untrained, the fused vector moves the output only slightly, but it must move it.
    assert (other - own).abs().max() > 1e-5


def test_discriminator_patch_map(l_batch):
    scores = PatchDiscriminator(8)(l_batch, torch.zeros(2, 2, 256, 256))
    assert scores.shape == (2, 1, 30, 30)


def test_gradients_reach_input(l_batch):
    model = UNetGenerator(8).train()
    x = l_batch.clone().requires_grad_(True)
    model(x).sum().backward()
    assert x.grad is not None
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize("architecture", ["unet", "unet-class"])
def test_batch_of_one_in_training_mode_raises(architecture):
    model = build_generator(architecture, 8, num_classes=4).train()
    with pytest.raises(ValueError, match="batch of at least 2"):
        model(torch.zeros(1, 1, 256, 256))


def test_batch_of_one_in_eval_mode_works():
    model = UNetGenerator(8).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 1, 256, 256)).shape == (1, 2, 256, 256)


@pytest.mark.parametrize("size", [(128, 128), (384, 384), (256, 300)])
def test_wrong_input_size_raises(size):
    with pytest.raises(ValueError, match="multiples of 256"):
        UNetGenerator(8).eval()(torch.zeros(1, 1, *size))


def test_unet_runs_at_512():
    with torch.no_grad():
        assert UNetGenerator(8).eval()(torch.zeros(1, 1, 512, 512)).shape == (1, 2, 512, 512)


def test_classification_unet_at_512_needs_fusion_vector():
    model = ClassificationUNetGenerator(8, num_classes=3).eval()
    with torch.no_grad():
        with pytest.raises(ValueError, match="256, 256"):
            model(torch.zeros(1, 1, 512, 512))
        fusion, _ = model.global_features(torch.zeros(1, 1, 256, 256))
        ab, logits = model(torch.zeros(1, 1, 512, 512), fusion_vector=fusion)
    assert ab.shape == (1, 2, 512, 512)
    assert logits is None


def test_eval_mode_is_deterministic(l_batch):
    model = ClassificationUNetGenerator(8, num_classes=3).eval()
    with torch.no_grad():
        first, _ = model(l_batch)
        second, _ = model(l_batch)
    assert torch.equal(first, second)


@pytest.mark.parametrize("bad", [0, -4])
def test_invalid_width_raises(bad):
    with pytest.raises(ValueError, match="width"):
        UNetGenerator(bad)


def test_unknown_architecture_raises():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_generator("resnet", 8)
