"Training loop guarantees: exact resume, atomic checkpoints, the NaN guard, clear errors for corrupt checkpoints."
import random
from unittest.mock import patch

import numpy as np
import pytest
import torch
from torch import nn

from vidlab.training import (Learner, Callback, LRSchedule, GradClip, EMA, NaNGuard, CondDropout, Evaluate, Checkpoint,
                             ProgressBar, TrainingDiverged, save_checkpoint, load_checkpoint, warmup_cosine, ema_decay,
                             diffusion_loss)
from vidlab.recipe import BucketSampler, bucketed

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
    with pytest.raises(FileNotFoundError, match='no checkpoint at'): load_checkpoint(make(), tmp_path / 'missing.safetensors')
    other = Learner(Toy(width=8), toy_loss, toy_data, seed=0)
    with pytest.raises(ValueError, match='different model'): load_checkpoint(other, ck)


def test_pure_schedules():
    assert warmup_cosine(0, 100, 10) == pytest.approx(0.1) and warmup_cosine(100, 100, 10, final=0.0) == pytest.approx(0.0)
    assert ema_decay(0, 0.999) == pytest.approx(0.1) and ema_decay(10 ** 6, 0.999) == 0.999


@pytest.mark.parametrize('damage', ['truncated', 'empty', 'flipped', 'other model'])
def test_failed_resume_shows_the_real_error_with_a_progress_bar(tmp_path, damage):
    "`vidlab train` used to end in AttributeError: 'ProgressBar' object has no attribute 'bar'."
    ck = tmp_path / 'run.safetensors'
    make(ck).fit(10)
    blob = ck.read_bytes()
    if damage == 'truncated': ck.write_bytes(blob[:len(blob) // 2])
    if damage == 'empty': ck.write_bytes(b'')
    if damage == 'flipped': ck.write_bytes(blob[:-5] + bytes([blob[-5] ^ 1]) + blob[-4:])
    expected = dict(truncated='truncated or corrupt', empty='truncated or corrupt', flipped='do not match their checksums',
                    **{'other model': 'different model'})[damage]
    torch.manual_seed(0)
    model = Toy(width=8) if damage == 'other model' else Toy()
    learn = Learner(model, toy_loss, toy_data, seed=0, cbs=[Checkpoint(ck), ProgressBar()])
    with pytest.raises(ValueError, match=expected): learn.fit(20)


def test_after_fit_failure_never_masks_the_first_error():
    class Boom(Callback):
        def after_step(self, learn): raise RuntimeError('the real reason')
    class BadCleanup(Callback):
        def after_fit(self, learn): raise KeyError('cleanup broke')
    with pytest.raises(RuntimeError, match='the real reason') as e: make(extra=[Boom(), BadCleanup()]).fit(5)
    assert any('BadCleanup.after_fit also failed' in n for n in getattr(e.value, '__notes__', ['BadCleanup.after_fit also failed']))
    with pytest.raises(KeyError, match='cleanup broke'): make(extra=[BadCleanup()]).fit(3)  # alone, it is the error


def _two_stage(stale_grad):
    "A model with a part trained earlier and now frozen, which may still hold that stage's gradients."
    torch.manual_seed(0)
    model = nn.ModuleDict(dict(net=Toy(), vae=nn.Linear(8, 8)))
    model.vae.requires_grad_(False)
    if stale_grad is not None: model.vae.weight.grad = torch.full((8, 8), stale_grad)
    return Learner(model, lambda m, b: toy_loss(m['net'], b), toy_data, seed=0,
                   opt=torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3),
                   cbs=[GradClip(0.5), NaNGuard()])


def test_clipping_and_nan_guard_count_only_trained_parameters():
    clean = _two_stage(None).fit(15)
    for stale in (50.0, float('nan')):
        dirty = _two_stage(stale).fit(15)
        assert [h['grad_norm'] for h in dirty.history] == [h['grad_norm'] for h in clean.history]
        assert [h['loss'] for h in dirty.history] == [h['loss'] for h in clean.history]
    assert set(clean.trained) == {f'net.{k}' for k, _ in Toy().named_parameters()}


def test_stale_tmp_cleaned_on_save_and_on_resume(tmp_path):
    ck = tmp_path / 'checkpoint.safetensors'
    learn = make(ck).fit(10)
    for when in ('save', 'resume'):
        stale = tmp_path / f'.checkpoint.safetensors.killed{when}.tmp'
        stale.write_bytes(b'half')
        if when == 'save': save_checkpoint(learn, ck)
        else: make(ck).fit(10)
        assert not stale.exists()
    assert [p.name for p in tmp_path.iterdir()] == ['checkpoint.safetensors']


class _Sched:
    "A scheduler stub: x_t = x0 + t * noise, target = noise."
    def add_noise(self, x0, noise, t): return x0 + t.view(-1, 1) * noise
    def training_target(self, x0, noise, t): return noise


def test_diffusion_loss_is_the_one_step():
    g = torch.Generator().manual_seed(0)
    x0, noise, t = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g), torch.tensor([0.0, 1.0, 2.0])
    seen = {}
    def model_fn(xt, tt):
        seen.update(xt=xt, t=tt)
        return torch.zeros_like(xt)
    loss = diffusion_loss(model_fn, _Sched(), x0, noise, t)
    assert torch.equal(seen['xt'], x0 + t.view(-1, 1) * noise) and seen['t'] is t
    assert torch.allclose(loss, noise.pow(2).mean())
    assert diffusion_loss(lambda xt, tt: noise, _Sched(), x0, noise, t).item() == 0.0


def test_bucket_sampler():
    s = BucketSampler([(16, 32, 32), (8, 32, 32), (32, 64, 64), (16, 32, 64)], batch_size=8)
    assert s.batch_sizes == [8, 16, 1, 4]  # tokens per batch at most the reference's, at least one clip
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert [s(g1) for _ in range(50)] == [s(g2) for _ in range(50)]
    s2 = BucketSampler([(8, 8, 8), (8, 16, 16)], 4, weights=[3, 1])
    g = torch.Generator().manual_seed(0)
    share = sum(s2(g)[0] == (8, 8, 8) for _ in range(4000)) / 4000
    assert abs(share - 0.75) < 0.03
    for bad, msg in [(([], 4), 'non-empty list'), (([(8, 8)], 4), 'non-empty list'), (([(8, 8, 0)], 4), 'non-empty list'),
                     (([(8, 8, 8), (8, 8, 8)], 4), 'repeated'), (([(8, 8, 8)], 0), 'batch_size must be >= 1')]:
        with pytest.raises(ValueError, match=msg): BucketSampler(*bad)
    with pytest.raises(ValueError, match='weights must be 2'): BucketSampler([(8, 8, 8), (8, 16, 16)], 4, weights=[0, 0])
    data_fn = bucketed(s, lambda bucket, n, g: dict(x=torch.rand(n, *bucket, generator=g)))
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        b = data_fn(g)
        bucket = b['bucket']
        assert b['x'].shape == (s.batch_sizes[s.buckets.index(bucket)], *bucket)


def test_only_process_zero_prints_and_writes(tmp_path, monkeypatch):
    "In process 1 of a multi-process job, main-process-only callbacks do not run and checkpoints are not written."
    from vidlab.training import Learner, ProgressBar, Checkpoint, Evaluate
    model = torch.nn.Linear(2, 1)
    calls = []
    data_fn = lambda g: dict(x=torch.randn(4, 2, generator=g))
    loss_fn = lambda m, b: m(b['x']).pow(2).mean()
    monkeypatch.setenv('RANK', '1')
    monkeypatch.setenv('WORLD_SIZE', '2')
    learn = Learner(model, loss_fn, data_fn, seed=0, cbs=[ProgressBar(), Checkpoint(tmp_path / 'ck.safetensors', every=1),
                                                          Evaluate(lambda m: calls.append(1) or {'x': 0.0}, every=1)])
    learn.fit(3)
    assert learn.step == 3 and not calls and not (tmp_path / 'ck.safetensors').exists()
    assert learn.find_cb(ProgressBar).bar is None
    monkeypatch.setenv('RANK', '0')
    Learner(model, loss_fn, data_fn, seed=0, cbs=[Checkpoint(tmp_path / 'ck.safetensors', every=1)]).fit(1)
    assert (tmp_path / 'ck.safetensors').exists()
