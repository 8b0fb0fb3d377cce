"Reference solutions of lesson 09's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import torch
from vidlab.positions import check_sincos, check_rotate

torch.set_num_threads(1)


def sincos(dim, pos):
    omega = 10000.0 ** (-torch.arange(dim // 2, dtype=torch.float64) * 2 / dim)
    angles = pos.double()[:, None] * omega
    return torch.cat([angles.sin(), angles.cos()], -1)


def rotate_pairs(x, angles):
    x1, x2 = x.chunk(2, -1)  # channel i pairs with channel i + e/2
    cos, sin = angles.cos(), angles.sin()
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_sincos(capsys):
    assert check_sincos(sincos) is True
    assert 'Correct: sincos' in capsys.readouterr().out
    cos_first = lambda d, p: sincos(d, p).roll(d // 2, -1)  # cosines first (the timestep embedding's order)
    assert check_sincos(cos_first) is False
    assert 'first dim/2 columns sin' in capsys.readouterr().out
    assert check_sincos(lambda d, p: sincos(d, p)[:, : d // 2]) is False
    assert 'give shape' in capsys.readouterr().out
    assert check_sincos(unfinished) is False


def test_rotate_pairs(capsys):
    assert check_rotate(rotate_pairs) is True
    assert 'Correct: rotate_pairs' in capsys.readouterr().out
    assert check_rotate(lambda x, a: rotate_pairs(x, -a)) is False  # turned clockwise
    assert 'turned the wrong way' in capsys.readouterr().out
    def neighbours(x, a):  # pairs (x_2i, x_2i+1), the interleaved layout
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.stack([x1 * a.cos() - x2 * a.sin(), x1 * a.sin() + x2 * a.cos()], -1).flatten(-2)
    assert check_rotate(neighbours) is False
    assert 'not neighbours' in capsys.readouterr().out
    assert check_rotate(lambda x, a: x[..., :2]) is False
    assert 'the same shape' in capsys.readouterr().out
    assert check_rotate(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out
