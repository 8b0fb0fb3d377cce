"Reference solutions to the exercises of lesson 02_evaluation: each check passes them, and fails a typical wrong answer with a hint."
import torch

from vidlab.evaluation import STILL, check_centroid, check_direction, check_iou

torch.set_num_threads(1)


def centroid(mask):
    ys, xs = mask.nonzero(as_tuple=True)
    return (xs.float().mean() + 0.5).item(), (ys.float().mean() + 0.5).item()


def iou(a, b):
    union = (a | b).sum()
    return 0.0 if union == 0 else ((a & b).sum() / union).item()


def direction(centroids, side):
    k = max(1, round(len(centroids) / 5))
    dx, dy = (centroids[-k:].mean(0) - centroids[:k].mean(0)).tolist()
    if max(abs(dx), abs(dy)) < STILL * side: return 'still'
    if abs(dx) >= abs(dy): return 'right' if dx > 0 else 'left'
    return 'down' if dy > 0 else 'up'


def unfinished(*args): raise NotImplementedError  # your code here


def test_centroid(capsys):
    assert check_centroid(centroid) is True
    assert capsys.readouterr().out.startswith('Correct: centroid')
    at_corners = lambda m: tuple(v - 0.5 for v in centroid(m))  # pixel corners, not centres
    assert check_centroid(at_corners) is False
    assert 'pixel centres are at +0.5' in capsys.readouterr().out
    assert check_centroid(lambda m: centroid(m)[::-1]) is False  # (y, x)
    assert 'Not yet: centroid' in capsys.readouterr().out
    assert check_centroid(lambda m: 'x, y') is False
    assert 'return two numbers' in capsys.readouterr().out


def test_iou(capsys):
    assert check_iou(iou) is True
    assert capsys.readouterr().out.startswith('Correct: iou')
    assert check_iou(lambda a, b: ((a & b).sum() / a.sum()).item()) is False  # over one mask, not the union
    assert '|A and B| / |A or B|' in capsys.readouterr().out
    assert check_iou(lambda a, b: ((a & b).sum() / (a | b).sum()).item()) is False  # 0 / 0 on empty masks
    assert 'two empty masks share nothing' in capsys.readouterr().out
    assert check_iou(unfinished) is False
    assert 'Fill in the function first' in capsys.readouterr().out


def test_direction(capsys):
    assert check_direction(direction) is True
    assert capsys.readouterr().out.startswith('Correct: direction')
    y_up = lambda c, side: direction(c * torch.tensor([1., -1.]), side)  # y taken as growing upwards
    assert check_direction(y_up) is False
    assert 'y grows downwards' in capsys.readouterr().out
    never_still = lambda c, side: direction(c, 0)
    assert check_direction(never_still) is False
    assert "expected 'still'" in capsys.readouterr().out
    assert check_direction(unfinished) is False
    assert 'Not yet: direction' in capsys.readouterr().out
