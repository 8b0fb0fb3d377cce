"Reference solutions of lesson 00's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import numpy as np
import torch
from vidlab.core import check_to_display, check_nearest_upscale


def to_display(clip):
    return clip.permute(0, 2, 3, 1).float().numpy()


def nearest_upscale(frames, factor):
    return frames.repeat(factor, axis=-3).repeat(factor, axis=-2)


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_to_display(capsys):
    assert check_to_display(to_display) is True
    assert 'Correct: to_display' in capsys.readouterr().out
    assert check_to_display(lambda v: v.numpy().reshape(v.shape[0], v.shape[2], v.shape[3], 3)) is False  # reshape
    assert 'permute, do not reshape' in capsys.readouterr().out
    assert check_to_display(lambda v: v.permute(0, 2, 3, 1).double().numpy()) is False
    assert 'float32' in capsys.readouterr().out
    assert check_to_display(lambda v: v.numpy()) is False
    assert 'move the channel axis last' in capsys.readouterr().out
    assert check_to_display(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out


def test_nearest_upscale(capsys):
    assert check_nearest_upscale(nearest_upscale) is True
    assert 'Correct: nearest_upscale' in capsys.readouterr().out
    assert check_nearest_upscale(lambda x, k: np.tile(x, (1,) * (x.ndim - 3) + (k, k, 1))) is False  # tiles the image
    assert 'factor x factor block' in capsys.readouterr().out
    assert check_nearest_upscale(lambda x, k: x.repeat(k, axis=0)) is False
    assert 'only the height and width axes' in capsys.readouterr().out
    assert check_nearest_upscale(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out
