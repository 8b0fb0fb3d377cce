"Reference solutions of lesson 07's exercises: each check passes them, and rejects a typical wrong answer with a hint."
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


def test_add_noise(verdicts):
    verdicts.accepted(check_add_noise, add_noise)
    verdicts.rejected(check_add_noise, lambda x0, eps, ab: ab * x0 + (1 - ab) * eps, 'square root')
    verdicts.rejected(check_add_noise, lambda x0, eps, ab: (1 - ab).sqrt() * x0 + ab.sqrt() * eps, 'swapped')
    verdicts.rejected(check_add_noise, unfinished, 'NotImplementedError')


def test_alpha_bars(verdicts):
    verdicts.accepted(check_alpha_bars, alpha_bar_from_betas)
    verdicts.rejected(check_alpha_bars, lambda b: torch.cumprod(b, 0), 'product of the betas')
    verdicts.rejected(check_alpha_bars, lambda b: 1 - b, 'cumprod')
    verdicts.rejected(check_alpha_bars, lambda b: 1 - torch.cumsum(b, 0), 'approximation')
    verdicts.rejected(check_alpha_bars, lambda b: None, 'return')


def test_x0_from_v(verdicts):
    verdicts.accepted(check_x0_from_v, x0_from_v)
    verdicts.rejected(check_x0_from_v, lambda v, x, a, s: (x - s * v) / a, 'epsilon formula')
    verdicts.rejected(check_x0_from_v, lambda v, x, a, s: a * x + s * v, 'sign')
    verdicts.rejected(check_x0_from_v, lambda v, x, a, s: x[:1], 'Expected shape')
    verdicts.rejected(check_x0_from_v, lambda v, x, a, s: 'x0', 'Expected a tensor')
