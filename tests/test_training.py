"Training loop guarantees: exact resume, atomic checkpoints, the NaN guard, clear errors for corrupt checkpoints."
import random
from unittest.mock import patch

import numpy as np
import pytest
import torch
from torch import nn

from vidlab.training import (Learner, Callback, LRSchedule, GradClip, EMA, NaNGuard, CondDropout, Evaluate, Checkpoint,
                             TrainingDiverged, save_checkpoint, load_checkpoint, warmup_cosine, ema_decay, drop_condition)

torch.set_num_threads(1)


def toy_data(generator, bs=32):
    x = torch.rand(bs, 1, generator=generator) * 2 - 1
    c = torch.randint(1, 4, (bs,), generator=generator)
    return dict(x=x, c=c, y=torch.sin(3 * x + c[:, None]) + 0.05 * torch.randn(bs, 1, generator=generator))


class Toy(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.emb = nn.Embedding(4, 1)
        self.net = nn.Sequential(nn.Linear(1, width), nn.GELU(), nn.Dropout(0.1), nn.Linear(width, 1))
    def forward(self, x, c): return self.net(x + self.emb(c))


def toy_loss(model, batch): return nn.functional.mse_loss(model(batch['x'], batch['c']), batch['y'])


def toy_eval(model):  # draws random numbers on purpose: evaluation must not disturb training
    x = torch.rand(16, 1)
    return dict(mse=nn.functional.mse_loss(model(x, torch.ones(16, dtype=torch.long)), torch.sin(3 * x + 1)))


class Crash(Callback):
    def __init__(self, at): self.at = at
    def after_step(self, learn):
        if learn.step == self.at: raise RuntimeError('simulated crash')


def make(ck=None, seed=0, extra=()):
    torch.manual_seed(seed)
    model = Toy()
    cbs = [LRSchedule(warmup=5), GradClip(1.0), EMA(0.99), NaNGuard(), CondDropout(dict(c=torch.tensor(0)), p=0.2),
           Evaluate(toy_eval, every=20, verbose=False), *extra]
    if ck: cbs.append(Checkpoint(ck, every=10))
    return Learner(model, toy_loss, toy_data, opt=torch.optim.AdamW(model.parameters(), lr=3e-3), cbs=cbs, seed=seed)


def test_resume_is_exact(tmp_path):
    full = make().fit(60)
    ck = tmp_path / 'run.safetensors'
    with pytest.raises(RuntimeError, match='simulated crash'): make(ck, extra=[Crash(35)]).fit(60)  # last checkpoint: step 30
    np.random.rand(3); random.random(); torch.rand(5)  # unrelated draws between the runs
    resumed = make(ck, seed=99).fit(60)
    assert [h['loss'] for h in resumed.history] == [h['loss'] for h in full.history]
    assert resumed.evals == full.evals
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()): assert torch.equal(a, b)
    for k, v in full.find_cb(EMA).shadow.items(): assert torch.equal(resumed.find_cb(EMA).shadow[k], v)


def test_checkpoint_write_is_atomic(tmp_path):
    ck = tmp_path / 'run.safetensors'
    learn = make(ck).fit(10)
    before = ck.read_bytes()
    learn.cbs = [c for c in learn.cbs if not isinstance(c, Checkpoint)]
    learn.fit(12)  # new state, whose write fails half way
    with patch('os.fsync', side_effect=OSError('disk full')), pytest.raises(OSError, match='disk full'):
        save_checkpoint(learn, ck)
    assert ck.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith('.tmp')]
    assert load_checkpoint(make(), ck).step == 10


def test_nan_guard_names_what_diverged():
    learn = make()
    learn.opt.param_groups[0]['lr'] = 1e12
    learn.cbs = [c for c in learn.cbs if not isinstance(c, (GradClip, LRSchedule))]
    with pytest.raises(TrainingDiverged, match=r'training diverged at step \d+: .*Try: a lower learning rate'): learn.fit(50)

    def nan_data(generator):
        b = toy_data(generator); b['x'][0] = float('nan'); return b
    learn = Learner(Toy(), toy_loss, nan_data, cbs=[NaNGuard()], seed=0)
    with pytest.raises(TrainingDiverged, match=r"step 0: the loss is nan \(the batch tensors \['x'\]"): learn.fit(3)


def test_corrupt_or_mismatched_checkpoint_errors(tmp_path):
    ck = tmp_path / 'run.safetensors'
    make(ck).fit(10)
    bad = tmp_path / 'bad.safetensors'
    bad.write_bytes(ck.read_bytes()[:500])
    with pytest.raises(ValueError, match='truncated or corrupt'): load_checkpoint(make(), bad)
    with pytest.raises(FileNotFoundError): load_checkpoint(make(), tmp_path / 'missing.safetensors')
    other = Learner(Toy(width=8), toy_loss, toy_data, seed=0)
    with pytest.raises(ValueError, match='different model'): load_checkpoint(other, ck)


def test_pure_schedules():
    assert warmup_cosine(0, 100, 10) == pytest.approx(0.1) and warmup_cosine(100, 100, 10, final=0.0) == pytest.approx(0.0)
    assert ema_decay(0, 0.999) == pytest.approx(0.1) and ema_decay(10 ** 6, 0.999) == 0.999
    new, drop = drop_condition(dict(ids=torch.ones(1000, 4)), dict(ids=torch.zeros(4)), 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(new['ids'].sum(1) == 0, drop) and abs(drop.float().mean().item() - 0.3) < 0.05
