"Reference solutions of lesson 10's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import math
import torch
from vidlab.dit import check_tubelets, check_attention_pairs

torch.set_num_threads(1)


def tubelets(x, patch_size):
    b, f, c, h, w = x.shape
    pt, ph, pw = patch_size
    x = x.reshape(b, f // pt, pt, c, h // ph, ph, w // pw, pw)  # b gf pt c gh ph gw pw
    return x.permute(0, 1, 4, 6, 3, 2, 5, 7).reshape(b, (f // pt) * (h // ph) * (w // pw), c * pt * ph * pw)


def attention_pairs(grid, kind):
    gf, gh, gw = grid
    s = gh * gw
    return {'full': (gf * s) ** 2, 'spatial': gf * s ** 2, 'temporal': s * gf ** 2}[kind]


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_tubelets(capsys):
    assert check_tubelets(tubelets) is True
    assert 'Correct: tubelets' in capsys.readouterr().out
    channels_last = lambda x, p: tubelets(x, p).reshape(x.shape[0], -1, x.shape[2], math.prod(p)).transpose(-1, -2).flatten(2)
    assert check_tubelets(channels_last) is False
    assert 'wrong order' in capsys.readouterr().out
    assert check_tubelets(lambda x, p: x.flatten(1)) is False
    assert '(batch, tokens, c*pt*ph*pw)' in capsys.readouterr().out
    assert check_tubelets(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out


def test_attention_pairs(capsys):
    assert check_attention_pairs(attention_pairs) is True
    assert 'Correct: attention_pairs' in capsys.readouterr().out
    assert check_attention_pairs(lambda g, k: math.prod(g) ** 2) is False  # every kind counted as full
    assert 'spatial attention on grid (4, 4, 4): 1,024 pairs' in capsys.readouterr().out
    assert check_attention_pairs(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out
