"Reference solutions of lesson 20's exercises (off the reader's path): each check passes them and fails a typical wrong answer."
import math
import numpy as np
import torch
from vidlab.efficiency import check_quantize_rows, check_reuse, check_psnr


def quantize_rows(w):
    scale = w.abs().amax(1) / 127
    return torch.clamp(torch.round(w / scale[:, None]), -127, 127).to(torch.int8), scale


def per_tensor(w):  # one scale for the whole matrix: the small rows lose their precision
    scale = w.abs().max() / 127
    return torch.clamp(torch.round(w / scale), -127, 127).to(torch.int8), scale.expand(w.shape[0])


def reuse(r, prev, threshold):
    return ((r - prev).abs().mean() / prev.abs().mean()).item() < threshold


def reuse_absolute(r, prev, threshold):  # forgets to divide by the size of the residual
    return (r - prev).abs().mean().item() < threshold


def my_psnr(a, b):
    return 10 * math.log10(1 / np.mean((np.asarray(a) - np.asarray(b)) ** 2))


def psnr_255(a, b):  # the peak of 8-bit pixels, for pixels in [0, 1]
    return 10 * math.log10(255 ** 2 / np.mean((np.asarray(a) - np.asarray(b)) ** 2))


def test_quantize_rows(verdicts):
    verdicts.accepted(check_quantize_rows, quantize_rows)
    verdicts.rejected(check_quantize_rows, per_tensor, 'max|w_r| / 127')


def test_reuse(verdicts):
    verdicts.accepted(check_reuse, reuse)
    verdicts.rejected(check_reuse, reuse_absolute, 'relative change')


def test_psnr(verdicts):
    verdicts.accepted(check_psnr, my_psnr)
    verdicts.rejected(check_psnr, psnr_255, 'peak of 1')


def test_stubs_are_not_yet(verdicts):
    def stub(*args): raise NotImplementedError
    for check in (check_quantize_rows, check_reuse, check_psnr): verdicts.rejected(check, stub, 'Fill in the function first')
