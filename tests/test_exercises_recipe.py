"Reference solutions of lesson 14's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import math
import torch
from vidlab.recipe import check_bucket_batch_size, check_cache_sizes

torch.set_num_threads(1)


def bucket_batch_size(bucket, reference, batch_size):
    return max(1, batch_size * math.prod(reference) // math.prod(bucket))


def clips_per_bucket(buckets, n, weights=None):
    w = [1.0] * len(buckets) if weights is None else [float(x) for x in weights]
    ref = math.prod(buckets[0])
    return [max(1, round(n * wi / sum(w) * ref / math.prod(b))) for b, wi in zip(buckets, w)]


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_bucket_batch_size(capsys):
    assert check_bucket_batch_size(bucket_batch_size) is True
    assert 'Correct: bucket_batch_size' in capsys.readouterr().out
    assert check_bucket_batch_size(lambda b, r, n: round(n * math.prod(r) / math.prod(b))) is False  # 0 clips, or too many
    assert 'never go below 1 clip' in capsys.readouterr().out
    assert check_bucket_batch_size(lambda b, r, n: n * r[1] * r[2] // (b[1] * b[2])) is False  # frames forgotten
    assert check_bucket_batch_size(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out


def test_cache_sizes(capsys):
    assert check_cache_sizes(clips_per_bucket) is True
    assert 'Correct: clips_per_bucket' in capsys.readouterr().out
    assert check_cache_sizes(lambda b, n, w: [n // len(b)] * len(b)) is False  # clips, not pixels
    assert 'in clips of its own size' in capsys.readouterr().out
    assert check_cache_sizes(lambda b, n, w: clips_per_bucket(b, n, None)) is False  # weights ignored
    assert check_cache_sizes(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out
