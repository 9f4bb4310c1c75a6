"""Training recipes as data: every hyperparameter of the three models with its default.

The defaults follow "Automatic Image Colorization with Adversarial and Classification
Losses" (Saccaro, 2023): pix2pix (GAN + L1), the same with a classification loss,
and WGAN-GP + L2 + classification.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    name: str
    architecture: str
    """Generator: "unet" or "unet-class"."""
    adversarial: str = "bce"
    """"bce" (pix2pix, BCE with logits) or "wgan-gp" (Wasserstein critic with gradient penalty)."""
    reconstruction: str = "l1"
    """"l1" or "l2", on ab scaled to [-1, 1]."""
    adversarial_weight: float = 1.0
    reconstruction_weight: float = 100.0
    classification_weight: float = 0.0
    real_label: float = 0.9
    """BCE target for real pairs; below 1 is one-sided label smoothing."""
    fake_label: float = 0.0
    discriminator_loss_weight: float = 0.5
    """pix2pix halves the discriminator objective to slow it relative to the generator."""
    critic_steps: int = 1
    """Discriminator (critic) updates per generator update."""
    gradient_penalty_weight: float = 0.0
    discriminator_batch_norm: bool = True
    generator_lr: float = 2e-4
    discriminator_lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    schedule: str = "cosine"
    """"cosine" (annealed to ``final_lr`` over the run) or "constant"."""
    final_lr: float = 2e-6
    epochs: int = 30
    batch_size: int = 8
    flip_probability: float = 0.5
    image_size: int = 256
    finetune_lr_scale: float = 0.1
    """Learning rates are multiplied by this when training starts from a trained model."""

    def __post_init__(self) -> None:
        if self.architecture not in ("unet", "unet-class"):
            raise ValueError(f"architecture must be 'unet' or 'unet-class', got {self.architecture!r}")
        if self.adversarial not in ("bce", "wgan-gp"):
            raise ValueError(f"adversarial must be 'bce' or 'wgan-gp', got {self.adversarial!r}")
        if self.reconstruction not in ("l1", "l2"):
            raise ValueError(f"reconstruction must be 'l1' or 'l2', got {self.reconstruction!r}")
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"schedule must be 'cosine' or 'constant', got {self.schedule!r}")
        if self.classification_weight > 0 and self.architecture != "unet-class":
            raise ValueError("a classification loss needs the 'unet-class' architecture")
        if self.batch_size < 2:
            raise ValueError(
                f"batch_size must be at least 2 (BatchNorm on the 1x1 bottleneck), got {self.batch_size}"
            )
        if self.critic_steps < 1 or self.epochs < 1:
            raise ValueError("critic_steps and epochs must be at least 1")
        if self.adversarial == "wgan-gp" and self.discriminator_batch_norm:
            raise ValueError("a WGAN-GP critic must not use BatchNorm (set discriminator_batch_norm=False)")

    def replace(self, **overrides) -> Recipe:
        """Return a copy with some fields changed; unknown names raise ``ValueError``."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown recipe fields {unknown}; known fields: {sorted(known)}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PIX2PIX = Recipe(name="pix2pix", architecture="unet")
PIX2PIX_CLASS = Recipe(name="pix2pix-class", architecture="unet-class", classification_weight=0.003)
WGAN_GP_CLASS = Recipe(
    name="wgan-gp-class",
    architecture="unet-class",
    adversarial="wgan-gp",
    reconstruction="l2",
    adversarial_weight=0.1,
    reconstruction_weight=1.0,
    classification_weight=0.003,
    real_label=1.0,
    discriminator_loss_weight=1.0,
    critic_steps=5,
    gradient_penalty_weight=10.0,
    discriminator_batch_norm=False,
    generator_lr=1e-5,
    discriminator_lr=1e-5,
    schedule="constant",
)

RECIPES = {recipe.name: recipe for recipe in (PIX2PIX, PIX2PIX_CLASS, WGAN_GP_CLASS)}


def get_recipe(name: str, **overrides) -> Recipe:
    """Return the named recipe with ``overrides`` applied."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of {sorted(RECIPES)}")
    return RECIPES[name].replace(**overrides) if overrides else RECIPES[name]
