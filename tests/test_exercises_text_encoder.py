"Reference solutions of lesson 04's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import math
import torch
from vidlab.text_encoder import check_sdpa, check_sinusoidal, check_eos_pool


def sdpa(q, k, v, key_mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (b, h, l_q, l_k)
    scores = scores.masked_fill(~key_mask.bool()[:, None, None, :], float('-inf'))
    return scores.softmax(-1) @ v


def sinusoidal(n_pos, d):
    pos = torch.arange(n_pos, dtype=torch.float64)[:, None]
    freq = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(n_pos, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return pe.float()


def eos_pool(states, input_ids, eos_id):
    idx = (input_ids == eos_id).int().argmax(-1)  # first <eos> of each row
    return states[torch.arange(len(states)), idx]


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_sdpa(capsys):
    assert check_sdpa(sdpa) is True
    assert 'Correct: sdpa' in capsys.readouterr().out
    unscaled = lambda q, k, v, m: sdpa(q * math.sqrt(q.shape[-1]), k, v, m)  # forgets 1/sqrt(d)
    assert check_sdpa(unscaled) is False
    assert 'sqrt(d)' in capsys.readouterr().out
    unmasked = lambda q, k, v, m: sdpa(q, k, v, torch.ones_like(m))
    assert check_sdpa(unmasked) is False
    assert 'Padding keys' in capsys.readouterr().out
    assert check_sdpa(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out


def test_sinusoidal(capsys):
    assert check_sinusoidal(sinusoidal) is True
    assert 'Correct: sinusoidal' in capsys.readouterr().out
    swapped = lambda n, d: torch.stack([sinusoidal(n, d)[:, 1::2], sinusoidal(n, d)[:, 0::2]], -1).flatten(1)
    assert check_sinusoidal(swapped) is False
    assert 'sin goes on the even dimensions' in capsys.readouterr().out
    assert check_sinusoidal(lambda n, d: 'table') is False  # not a tensor: a hint, not a crash
    assert 'Not yet: sinusoidal' in capsys.readouterr().out


def test_eos_pool(capsys):
    assert check_eos_pool(eos_pool) is True
    assert 'Correct: eos_pool' in capsys.readouterr().out
    assert check_eos_pool(lambda h, ids, eos: h[:, -1]) is False
    assert 'last position, which is padding' in capsys.readouterr().out
    assert check_eos_pool(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out
