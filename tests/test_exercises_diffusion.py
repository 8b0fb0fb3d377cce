"Reference solutions of lesson 06's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import torch
from vidlab.diffusion import check_add_noise, check_alpha_bars, check_x0_from_v


def add_noise(x0, eps, alpha_bar):
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps

def alpha_bar_from_betas(betas):
    return torch.cumprod(1 - betas, dim=0)

def x0_from_v(v, x_t, alpha, sigma):
    return alpha * x_t - sigma * v

def unfinished(*args):
    raise NotImplementedError  # your code here


def _accepted(capsys, check, fn):
    "The check returns True and prints 'Correct'."
    assert check(fn) is True
    assert capsys.readouterr().out.startswith('Correct')


def _rejected(capsys, check, fn, hint):
    "The check returns False, prints 'Not yet' and the hint, and does not raise."
    assert check(fn) is False
    out = capsys.readouterr().out
    assert out.startswith('Not yet') and hint in out, out


def test_add_noise(capsys):
    _accepted(capsys, check_add_noise, add_noise)
    _rejected(capsys, check_add_noise, lambda x0, eps, ab: ab * x0 + (1 - ab) * eps, 'square root')
    _rejected(capsys, check_add_noise, lambda x0, eps, ab: (1 - ab).sqrt() * x0 + ab.sqrt() * eps, 'swapped')
    _rejected(capsys, check_add_noise, unfinished, 'NotImplementedError')


def test_alpha_bars(capsys):
    _accepted(capsys, check_alpha_bars, alpha_bar_from_betas)
    _rejected(capsys, check_alpha_bars, lambda b: torch.cumprod(b, 0), 'product of the betas')
    _rejected(capsys, check_alpha_bars, lambda b: 1 - b, 'cumprod')
    _rejected(capsys, check_alpha_bars, lambda b: 1 - torch.cumsum(b, 0), 'approximation')
    _rejected(capsys, check_alpha_bars, lambda b: None, 'return')


def test_x0_from_v(capsys):
    _accepted(capsys, check_x0_from_v, x0_from_v)
    _rejected(capsys, check_x0_from_v, lambda v, x, a, s: (x - s * v) / a, 'epsilon formula')
    _rejected(capsys, check_x0_from_v, lambda v, x, a, s: a * x + s * v, 'sign')
    _rejected(capsys, check_x0_from_v, lambda v, x, a, s: x[:1], 'Expected shape')
    _rejected(capsys, check_x0_from_v, lambda v, x, a, s: 'x0', 'Expected a tensor')
