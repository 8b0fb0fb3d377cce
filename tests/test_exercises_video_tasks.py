"Reference solutions of the video-tasks lesson's exercises: each check passes them and fails a typical wrong answer."
import torch
from vidlab.video_tasks import check_window_starts, check_seam_ratio


def ref_window_starts(frames, window, stride):
    starts = list(range(0, frames - window + 1, stride))
    return starts if starts[-1] == frames - window else starts + [frames - window]


def ref_seam_ratio(videos):
    change = lambda a, b: (b - a).abs().mean((-3, -2, -1))
    inner = change(videos[:, :-1], videos[:, 1:]).median(1).values
    return change(videos[:, -1], videos[:, 0]) / inner


def test_window_starts(capsys):
    assert check_window_starts(ref_window_starts)
    assert not check_window_starts(lambda f, w, s: list(range(0, f - w + 1, s)))  # the last frames left uncovered
    assert not check_window_starts(lambda f, w, s: list(range(0, f, s)))  # windows run past the end
    out = capsys.readouterr().out
    assert 'Correct: window_starts' in out and 'Not yet: window_starts' in out


def test_seam_ratio(capsys):
    assert check_seam_ratio(ref_seam_ratio)
    mean_not_median = lambda v: (v[:, 0] - v[:, -1]).abs().mean((1, 2, 3)) / (v[:, 1:] - v[:, :-1]).abs().mean((1, 2, 3, 4))
    assert not check_seam_ratio(mean_not_median)
    assert not check_seam_ratio(lambda v: (v[:, 0] - v[:, -1]).abs().mean((1, 2, 3)))  # not relative to the rest
    assert 'Not yet: seam_ratio' in capsys.readouterr().out
