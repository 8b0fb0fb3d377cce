"""Kill a real `vidlab train --preset tiny` process and resume it: the result equals an uninterrupted run, bit for bit.

Each run is a fresh Python process running the `vidlab` command's `main(['train', '--preset', 'tiny', ...])`. To kill
it at an exact moment (polling from outside races a run of a few seconds), a small driver wraps one vidlab function so
the process sends itself SIGKILL there: no exception, no `finally`, no cleanup, as a power cut or the OOM killer would.

- after a checkpoint: SIGKILL right after the checkpoint of step 20 is written (the run has 40 steps);
- during a checkpoint write: SIGKILL inside the write of step 40's checkpoint, leaving a half-written `.tmp` file;
- at the stage boundary: SIGKILL at step 3 of the transformer stage, before any checkpoint: the resumed process loads
  the VAE from disk, the uninterrupted one kept it in memory (issue 12: its stale gradients once changed clipping).

The resumed run's losses, gradient norms, learning rates and evaluations (the checkpoint's history) and its final
weights (model.safetensors and the checkpoint's tensors) must equal the uninterrupted run's exactly.
"""
import json, os, signal, subprocess, sys
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file

DRIVER = r'''
import os, signal, sys
from pathlib import Path
import vidlab.core as C, vidlab.training as T
mode, out = sys.argv[1], Path(sys.argv[2])
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
if mode == 'after-checkpoint':
    real_save = T.save_checkpoint
    def save_then_die(learn, path):
        res = real_save(learn, path)
        if learn.step == 20: die()
        return res
    T.save_checkpoint = save_then_die
elif mode == 'during-write':
    real_write, writes = C.atomic_write, []
    def die_mid_write(path, write_fn):
        if Path(path).name == 'checkpoint.safetensors':
            writes.append(path)
            if len(writes) == 2:  # step 40's checkpoint: half of it, then the power goes
                def half(f):
                    f.write(b'\0' * 4096); f.flush(); os.fsync(f.fileno()); die()
                return real_write(path, half)
        return real_write(path, write_fn)
    C.atomic_write = die_mid_write
elif mode == 'stage-boundary':
    real_step = T.Learner.one_step
    def step_then_die(self):
        real_step(self)
        if self.step == 3 and (out / 'vae').exists(): die()
    T.Learner.one_step = step_then_die
from vidlab.cli import main
sys.exit(main(['train', '--preset', 'tiny', '--out', str(out)]))
'''


def train(tmp_path, out, mode='none'):
    driver = tmp_path / 'driver.py'
    driver.write_text(DRIVER)
    env = dict(os.environ, OMP_NUM_THREADS='1', VIDLAB_DEVICE='cpu')
    return subprocess.run([sys.executable, str(driver), mode, str(out)], capture_output=True, text=True, env=env, timeout=300)


def result(out: Path) -> dict:
    "What must match: the history (loss, grad_norm, lr, ... per step), the evaluations, and every tensor written."
    from safetensors import safe_open
    with safe_open(str(out / 'checkpoint.safetensors'), framework='pt') as f: meta = f.metadata()
    log = json.loads((out / 'train_log.json').read_text())
    return dict(history=json.loads(meta['history']), evals=json.loads(meta['evals']),
                log={k: log[k] for k in ('steps', 'first_loss', 'final_loss', 'evals', 'seed', 'preset') if k in log},
                model=load_file(str(out / 'model.safetensors')),
                checkpoint={k: v for k, v in load_file(str(out / 'checkpoint.safetensors')).items()
                            if not k.startswith('rng.')})


def assert_same(a: dict, b: dict):
    assert len(a['history']) == len(b['history']) == 40
    for ha, hb in zip(a['history'], b['history']):
        assert ha == hb, f'step {ha["step"]} differs: {ha} vs {hb}'  # loss, grad_norm, lr: exact floats
    assert 'grad_norm' in a['history'][0]
    assert a['evals'] == b['evals'] and a['log'] == b['log']
    for part in ('model', 'checkpoint'):
        assert a[part].keys() == b[part].keys()
        diff = [k for k in a[part] if not torch.equal(a[part][k], b[part][k])]
        assert not diff, f'{part} tensors differ: {diff[:5]}'


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('resume')
    r = train(tmp, tmp / 'run')
    assert r.returncode == 0, r.stderr
    return result(tmp / 'run')


def test_killed_after_checkpoint_resumes_exactly(tmp_path, uninterrupted):
    out = tmp_path / 'run'
    r = train(tmp_path, out, 'after-checkpoint')
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert (out / 'checkpoint.safetensors').exists() and not (out / 'model.safetensors').exists()
    r = train(tmp_path, out)
    assert r.returncode == 0, r.stderr
    assert_same(result(out), uninterrupted)


def test_killed_during_checkpoint_write_resumes_exactly(tmp_path, uninterrupted):
    out = tmp_path / 'run'
    r = train(tmp_path, out, 'during-write')
    assert r.returncode == -signal.SIGKILL, r.stderr
    left = list(out.glob('.checkpoint.safetensors.*.tmp'))
    assert len(left) == 1 and left[0].stat().st_size == 4096  # the half-written file of step 40
    r = train(tmp_path, out)  # resumes from step 20's checkpoint, intact beside it
    assert r.returncode == 0, r.stderr
    assert not list(out.glob('.*.tmp')), 'a killed write left its temporary file behind'
    assert_same(result(out), uninterrupted)


def test_killed_at_stage_boundary_resumes_exactly(tmp_path, uninterrupted):
    out = tmp_path / 'run'
    r = train(tmp_path, out, 'stage-boundary')
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert (out / 'vae').exists() and not (out / 'checkpoint.safetensors').exists()
    r = train(tmp_path, out)
    assert r.returncode == 0, r.stderr
    assert_same(result(out), uninterrupted)
