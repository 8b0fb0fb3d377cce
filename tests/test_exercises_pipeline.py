"Reference solutions of lesson 12's exercises: each check passes them and fails (with a hint) a typical wrong answer."
import math
from vidlab.pipeline import check_latent_size, check_frames_argument, check_nearest_bucket


def latent_size(num_frames, height, width): return (num_frames // 4, 4, height // 4, width // 4)

def frames_argument(num_frames):
    if num_frames % 4 or not 4 <= num_frames <= 64:
        raise ValueError(f'num_frames={num_frames}: allowed are multiples of 4 from 4 to 64')
    return num_frames

def nearest_bucket(buckets, frames, height, width):
    gap = lambda b: abs(math.log((b[1] / b[2]) / (height / width)))
    best = min(gap(b) for b in buckets)
    same = [b for b in buckets if gap(b) == best]
    return min(same, key=lambda b: abs(math.prod(b) - frames * height * width))


def test_latent_size(capsys):
    assert check_latent_size(latent_size)
    assert not check_latent_size(lambda f, h, w: (f // 4, 4, h // 8, w // 8))  # the patch size is not the VAE's
    assert 'Not yet' in capsys.readouterr().out
    assert not check_latent_size(lambda f, h, w: None)


def test_frames_argument(capsys):
    assert check_frames_argument(frames_argument)
    assert not check_frames_argument(lambda n: n or 16)  # 0 silently replaced by a default
    assert 'never a default' in capsys.readouterr().out
    def vague(n):
        if n % 4 or not 4 <= n <= 64: raise ValueError('bad')
        return n
    assert not check_frames_argument(vague)
    assert 'name the allowed range' in capsys.readouterr().out


def test_nearest_bucket(capsys):
    assert check_nearest_bucket(nearest_bucket)
    assert not check_nearest_bucket(lambda buckets, f, h, w: min(buckets, key=lambda b: abs(math.prod(b) - f * h * w)))
    assert 'h/w is closest' in capsys.readouterr().out


def test_stubs_never_raise(capsys):
    def stub(*a): raise NotImplementedError
    assert not check_latent_size(stub) and not check_frames_argument(stub) and not check_nearest_bucket(stub)
    assert capsys.readouterr().out.count('Fill in the function first') == 3
