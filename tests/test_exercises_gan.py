"Reference solutions of the GAN lesson's exercises: each check passes them and fails a typical wrong answer."
import torch
import torch.nn.functional as F
from vidlab.gan import check_hinge_d, check_mismatch


def ref_hinge_d(real, fake): return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
def ref_mismatch(captions): return captions[1:] + captions[:1]


def test_hinge_d(capsys):
    assert check_hinge_d(ref_hinge_d)
    assert not check_hinge_d(lambda r, f: F.relu(1 - r).mean() + F.relu(1 - f).mean())  # wrong sign on the fakes
    assert 'relu(1 + fake)' in capsys.readouterr().out  # the hint names the mistake
    assert not check_hinge_d(lambda r, f: (_ for _ in ()).throw(NotImplementedError()))
    assert 'Not yet' in capsys.readouterr().out


def test_mismatch(capsys):
    assert check_mismatch(ref_mismatch)
    assert not check_mismatch(lambda c: list(c))  # every clip keeps its own caption
    assert not check_mismatch(lambda c: None)
    assert 'Not yet' in capsys.readouterr().out
