"""Least-squares GAN losses and feature matching (HiFi-GAN, MelGAN).

Each takes lists over sub-discriminators (e.g. all of MPD's then MSD's outputs) and sums
the per-discriminator means, as HiFi-GAN does.
"""


def generator_adv_loss(fake_logits):
    """sum_k mean((1 - D_k(G(s)))^2): the generator wants its output called real (1)."""
    return sum(((1 - logits) ** 2).mean() for logits in fake_logits)


def discriminator_loss(real_logits, fake_logits):
    """(total, real part, fake part): sum_k mean((1 - D_k(x))^2) + mean(D_k(G(s))^2)."""
    real = sum(((1 - logits) ** 2).mean() for logits in real_logits)
    fake = sum((logits ** 2).mean() for logits in fake_logits)
    return real + fake, real, fake


def feature_matching_loss(real_fmaps, fake_fmaps):
    """sum over discriminators and layers of mean |D_k^l(x) - D_k^l(G(s))|; real maps are targets (detached)."""
    return sum((real.detach() - fake).abs().mean()
               for real_maps, fake_maps in zip(real_fmaps, fake_fmaps) for real, fake in zip(real_maps, fake_maps))
