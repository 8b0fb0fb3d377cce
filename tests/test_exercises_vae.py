"Reference solutions of lesson 05's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import torch
from vidlab.vae import check_reparameterize, check_kl, check_latent_shape

torch.set_num_threads(1)


def reparameterize(mean, logvar, eps):
    return mean + torch.exp(0.5 * logvar) * eps


def kl(mean, logvar):
    return 0.5 * (mean.square() + logvar.exp() - 1 - logvar).flatten(1).sum(1)


def latent_shape(frames, height, width, temporal, spatial, channels):
    for name, size, k in [('frames', frames, temporal), ('height', height, spatial), ('width', width, spatial)]:
        if size < k or size % k: raise ValueError(f'{name} {size} must be a positive multiple of {k}')
    return (frames // temporal, channels, height // spatial, width // spatial)


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_reparameterize(capsys):
    assert check_reparameterize(reparameterize) is True
    assert 'Correct: reparameterize' in capsys.readouterr().out
    assert check_reparameterize(lambda m, lv, e: m + lv.exp() * e) is False  # the variance instead of the std
    assert 'standard deviation is exp(logvar / 2)' in capsys.readouterr().out
    detached = lambda m, lv, e: (m + torch.exp(0.5 * lv) * e).detach()  # right values, no gradient
    assert check_reparameterize(detached) is False
    assert 'no gradient' in capsys.readouterr().out
    assert check_reparameterize(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out


def test_kl(capsys):
    assert check_kl(kl) is True
    assert 'Correct: kl' in capsys.readouterr().out
    assert check_kl(lambda m, lv: (m.square() + lv.exp() - 1 - lv).flatten(1).sum(1)) is False  # no 1/2
    assert 'factor 1/2' in capsys.readouterr().out
    assert check_kl(lambda m, lv: 0.5 * (m.square() + lv.exp() - 1 - lv)) is False  # not summed
    assert 'shape (n,)' in capsys.readouterr().out
    assert check_kl(lambda m, lv: 'kl') is False  # not a tensor: a hint, not a crash
    assert 'Not yet: kl' in capsys.readouterr().out


def test_latent_shape(capsys):
    assert check_latent_shape(latent_shape) is True
    assert 'Correct: latent_shape' in capsys.readouterr().out
    assert check_latent_shape(lambda f, h, w, t, s, c: (f // t, c, h // s, w // s)) is False  # never refuses a size
    assert 'raise a ValueError' in capsys.readouterr().out
    assert check_latent_shape(lambda f, h, w, t, s, c: (f // t, c, h // s, h // s)) is False  # assumes square frames
    assert 'should give (4, 4, 8, 16)' in capsys.readouterr().out
    assert check_latent_shape(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out
