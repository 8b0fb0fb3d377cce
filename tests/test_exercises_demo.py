"Reference solutions of lesson 13's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import torch
from vidlab.demo import check_predicted_clean, check_settled_step

torch.set_num_threads(1)


def predicted_clean(x_t, velocity, sigma):
    return x_t - sigma * velocity  # x_sigma = (1 - sigma) x0 + sigma eps and v = eps - x0, solved for x0


def settled_step(values):
    k = len(values) - 1
    while k > 0 and values[k - 1] == values[-1]: k -= 1  # walk back while the reading stays final
    return k


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_predicted_clean(capsys):
    assert check_predicted_clean(predicted_clean) is True
    assert 'Correct: predicted_clean' in capsys.readouterr().out
    assert check_predicted_clean(lambda x, v, s: x + s * v) is False
    assert 'wrong sign' in capsys.readouterr().out
    assert check_predicted_clean(lambda x, v, s: x - v) is False  # sigma forgotten
    assert 'x0_hat = x_t - sigma v' in capsys.readouterr().out
    assert check_predicted_clean(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out


def test_settled_step(capsys):
    assert check_settled_step(settled_step) is True
    assert 'Correct: settled_step' in capsys.readouterr().out
    assert check_settled_step(lambda vals: vals.index(vals[-1])) is False  # the first match, not the last change
    assert 'must stay at the final value' in capsys.readouterr().out
    assert check_settled_step(lambda vals: len(vals) - 1) is False
    assert check_settled_step(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out
