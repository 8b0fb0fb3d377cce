"Reference solutions of lesson 06's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import torch
import torch.nn.functional as F
from vidlab.vae_training import check_psnr, check_object_weights

torch.set_num_threads(1)


def psnr_db(x, y):
    return 10 * torch.log10(1 / (x - y).square().flatten(1).mean(1))


def object_weights(video, object_weight, threshold):
    obj = (video.amax(2, keepdim=True) > threshold).float()  # (b, f, 1, h, w)
    ring = F.max_pool3d(obj, (1, 3, 3), stride=1, padding=(0, 1, 1))  # each frame's mask grown by one pixel (f as channels)
    return 1 + object_weight * ring


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_psnr(capsys):
    assert check_psnr(psnr_db) is True
    assert 'Correct: psnr_db' in capsys.readouterr().out
    assert check_psnr(lambda x, y: 20 * torch.log10(1 / (x - y).square().flatten(1).mean(1))) is False
    assert 'not 20 log10' in capsys.readouterr().out
    assert check_psnr(lambda x, y: 10 * torch.log10(1 / (x - y).square().mean())) is False  # one number for the batch
    assert 'not over the whole batch' in capsys.readouterr().out
    assert check_psnr(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out


def test_object_weights(capsys):
    assert check_object_weights(object_weights) is True
    assert 'Correct: object_weights' in capsys.readouterr().out
    assert check_object_weights(lambda v, w, t: 1 + w * (v.amax(2, keepdim=True) > t).float()) is False  # no ring
    assert 'not the ring around it' in capsys.readouterr().out
    assert check_object_weights(lambda v, w, t: 'weights') is False  # not a tensor: a hint, not a crash
    assert 'Not yet: object_weights' in capsys.readouterr().out
    assert check_object_weights(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out
