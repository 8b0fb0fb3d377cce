"Reference solutions of the temporal lesson's exercises: each check passes them and fails a typical wrong answer."
import torch
from vidlab.temporal import check_frame_change, check_fit_velocity, check_attention_itself


def ref_frame_change(videos):
    return (videos[:, 1:] - videos[:, :-1]).abs().mean((1, 2, 3, 4))


def ref_fit_velocity(track):
    t = torch.arange(track.shape[1], dtype=track.dtype)
    dt = t - t.mean()
    return (dt[None, :, None] * (track - track.mean(1, keepdim=True))).sum(1) / dt.square().sum()


def ref_attention_itself(weights):
    return weights.diagonal().mean().item()


def unfinished(*args): raise NotImplementedError  # your code here


def test_frame_change(capsys):
    assert check_frame_change(ref_frame_change)
    assert not check_frame_change(lambda v: (v[:, 1:] - v[:, :-1]).square().mean((1, 2, 3, 4)))  # squared, not absolute
    assert not check_frame_change(unfinished)
    out = capsys.readouterr().out
    assert 'Correct: frame_change' in out and 'Not yet' in out and 'NotImplementedError' in out


def test_fit_velocity(capsys):
    assert check_fit_velocity(ref_fit_velocity)
    assert not check_fit_velocity(lambda tr: (tr[:, -1] - tr[:, 0]) / (tr.shape[1] - 1))  # the two ends only
    assert not check_fit_velocity(lambda tr: tr.mean(1))  # right shape, wrong idea
    assert 'Not yet: fit_velocity' in capsys.readouterr().out


def test_attention_itself(capsys):
    assert check_attention_itself(ref_attention_itself)
    assert not check_attention_itself(lambda w: w.diagonal().sum().item())  # summed, not averaged
    assert not check_attention_itself(lambda w: None)
    assert 'Not yet: attention_itself' in capsys.readouterr().out
