"Reference solutions to the exercises of lesson 01_data: each check passes them, and fails a typical wrong answer with a hint."
import torch

from vidlab.data import check_circle_alpha, check_stays_inside

torch.set_num_threads(1)


def circle_alpha(radius, cx, cy, height, width):
    x = torch.arange(width) + 0.5 - cx  # pixel centres, relative to the circle's centre
    y = torch.arange(height)[:, None] + 0.5 - cy
    return (radius + 0.5 - (x**2 + y**2).sqrt()).clamp(0, 1)


def stays_inside(centres, extent, height, width):
    r = extent / 2
    x, y = centres[:, 0], centres[:, 1]
    return bool(((x - r >= 0) & (x + r <= width) & (y - r >= 0) & (y + r <= height)).all())


def unfinished(*args): raise NotImplementedError  # your code here


def test_circle_alpha(capsys):
    assert check_circle_alpha(circle_alpha) is True
    assert capsys.readouterr().out.startswith('Correct: circle_alpha')
    hard_edged = lambda r, cx, cy, h, w: (circle_alpha(r, cx, cy, h, w) > 0.5).float()  # no anti-aliasing
    assert check_circle_alpha(hard_edged) is False
    assert 'Not yet: circle_alpha' in capsys.readouterr().out
    no_half = lambda r, cx, cy, h, w: circle_alpha(r, cx + 0.5, cy + 0.5, h, w)  # pixel centres at integers
    assert check_circle_alpha(no_half) is False
    assert 'Pixel (row i, column j) has its centre at' in capsys.readouterr().out
    assert check_circle_alpha(lambda r, cx, cy, h, w: circle_alpha(r, cx, cy, w, h)) is False  # (width, height)
    assert 'tensor (height, width)' in capsys.readouterr().out
    assert check_circle_alpha(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out


def test_stays_inside(capsys):
    assert check_stays_inside(stays_inside) is True
    assert capsys.readouterr().out.startswith('Correct: stays_inside')
    swapped = lambda c, e, h, w: stays_inside(c, e, w, h)  # x compared with the height
    assert check_stays_inside(swapped) is False
    assert 'x is compared with the width' in capsys.readouterr().out
    centre_only = lambda c, e, h, w: stays_inside(c, 0, h, w)  # forgets the object's extent
    assert check_stays_inside(centre_only) is False
    assert 'Not yet: stays_inside' in capsys.readouterr().out
    assert check_stays_inside(lambda *a: None) is False
    assert 'returned None' in capsys.readouterr().out
