"Reference solutions of lesson 11's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import math
import torch
from vidlab.training import check_lr_multiplier, check_clip_by_norm

torch.set_num_threads(1)


def lr_multiplier(step, total, warmup, final):
    if step < warmup: return (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * p))


def clip_by_norm(grads, max_norm):
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
    factor = min(1.0, max_norm / float(norm))
    return [g * factor for g in grads], norm


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_lr_multiplier(capsys):
    assert check_lr_multiplier(lr_multiplier) is True
    assert 'Correct: lr_multiplier' in capsys.readouterr().out
    off_by_one = lambda s, t, w, f: s / w if s < w else lr_multiplier(s, t, w, f)  # step 0 gives 0
    assert check_lr_multiplier(off_by_one) is False
    assert 'during warm-up: (step + 1) / warmup' in capsys.readouterr().out
    to_zero = lambda s, t, w, f: lr_multiplier(s, t, w, 0.0)  # ignores the floor
    assert check_lr_multiplier(to_zero) is False
    assert 'after warm-up' in capsys.readouterr().out
    assert check_lr_multiplier(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out


def test_clip_by_norm(capsys):
    assert check_clip_by_norm(clip_by_norm) is True
    assert 'Correct: clip_by_norm' in capsys.readouterr().out
    per_tensor = lambda gs, m: ([g * min(1.0, m / float(g.norm())) for g in gs], clip_by_norm(gs, m)[1])
    assert check_clip_by_norm(per_tensor) is False
    assert 'same factor' in capsys.readouterr().out
    assert check_clip_by_norm(lambda gs, m: (clip_by_norm(gs, m)[0], sum(g.norm() for g in gs))) is False  # sum of norms
    assert 'global norm' in capsys.readouterr().out
    assert check_clip_by_norm(lambda gs, m: clip_by_norm(gs, m)[0]) is False
    assert 'return a pair' in capsys.readouterr().out
    assert check_clip_by_norm(unfinished) is False
