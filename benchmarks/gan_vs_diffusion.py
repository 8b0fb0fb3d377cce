"""The GAN + GRU generator against the diffusion transformer, on the same prompts and the same evaluator.

    OMP_NUM_THREADS=1 python benchmarks/gan_vs_diffusion.py --n 32

Both shipped models: vidlab/assets/default (the bucketed diffusion model, `vidlab train --preset progressive`, sampled at
its config's default size, 16 frames of 32x32, with its config's 12 sampler steps and guidance 3) and vidlab/assets/gan,
plus the no-GRU ablation (vidlab/assets/gan/no_gru, trained with the same command and budget, `--set motion=independent`).
Prints one table: prompt fidelity (seen / held-out captions, per attribute), temporal measures (flicker vs real clips = 1,
identity persistence, motion smoothness in px, warping error), diversity for one prompt across seeds (std of start
position in px and of speed in px/frame, against the real world's), sampling seconds per video (the best of `--repeats`
timed batches of the seen captions), parameters, and training seconds from each model's train_log.json (the diffusion
model's: both phases, from scratch). Times are wall times on this machine: compare them as ratios within one run.
"""
import argparse, json, time
from pathlib import Path
import vidlab  # before torch, as a user would (it sets a short OpenMP spin)
import numpy as np
import torch
from vidlab.core import to_tensor_video
from vidlab.data import ShapesWorld, ATTRIBUTES
from vidlab.evaluation import prompt_fidelity
from vidlab.temporal import temporal_metrics, summarize
from vidlab.gan import GANPipeline, default_gan_dir, motion_spread
from vidlab.pipeline import TextToVideoPipeline, default_model_dir

DIVERSITY_PROMPT = 'a small red circle moving right'


def as_batch(frames):
    return torch.stack([to_tensor_video(f) for f in frames])  # (b, f, 3, h, w)


def measure(name, generate, params, train_seconds, seen, held, n_div, repeats=3):
    times = []
    for _ in range(repeats):  # the best of a few batches: one timed call is at the mercy of a loaded machine
        t = time.perf_counter()
        vs = generate(seen, 0)
        times.append((time.perf_counter() - t) / len(seen))
    dt = min(times)
    vh = generate(held, 0)
    fs, fh = prompt_fidelity(vs, seen), prompt_fidelity(vh, held)
    tm = summarize(temporal_metrics(vs))
    div = motion_spread(generate([DIVERSITY_PROMPT] * n_div, 1))
    row = dict(model=name, fidelity_seen=fs['all'], fidelity_heldout=fh['all'],
               **{f'seen_{k}': fs[k] for k in ATTRIBUTES}, **{f'heldout_{k}': fh[k] for k in ATTRIBUTES},
               **tm, start_std=div['start_std'], speed_std=div['speed_std'], tracked=div['found'],
               sample_s_per_video=dt, params=params, train_s=train_seconds)
    return row


def main(n=64, n_div=16, gan_dir=None, ablation_dir=None, repeats=3):
    if min(n, n_div, repeats) < 1: raise ValueError(f'n, n_div and repeats must be >= 1, got {n}, {n_div}, {repeats}')
    torch.set_num_threads(1)
    seen = ShapesWorld('train', seed=7).batch(range(n))['caption']
    held = ShapesWorld('heldout', seed=7).batch(range(n))['caption']
    world = ShapesWorld('all')
    rows = []
    real = lambda ps, seed: world.render_batch(list(ps), seed=seed)['video']
    rows.append(measure('real clips', real, 0, 0, seen, held, n_div, repeats))
    diff = TextToVideoPipeline.from_pretrained(device='cpu')
    log = json.loads((default_model_dir() / 'train_log.json').read_text())
    rows.append(measure('diffusion (DiT)', lambda ps, seed: as_batch(diff(list(ps), seed=seed).frames),
                        sum(p.numel() for p in diff.model.parameters()), log['seconds'], seen, held, n_div, repeats))
    for name, d in [('GAN + GRU', gan_dir or default_gan_dir()), ('GAN, no GRU', ablation_dir or default_gan_dir() / 'no_gru')]:
        if not (Path(d) / 'model.safetensors').exists(): print(f'skipped {name}: no model at {d}'); continue
        pipe = GANPipeline.from_pretrained(d, device='cpu')
        gl = json.loads((Path(d) / 'train_log.json').read_text())
        g = pipe.gan
        params = sum(p.numel() for p in g.generator.parameters())  # what samples; discriminators listed below
        rows.append(measure(name, lambda ps, seed: g.generate(list(ps), seed=seed), params, gl['seconds'], seen, held, n_div, repeats))
        rows[-1]['d_params'] = sum(p.numel() for p in g.d_parameters())
    keys = [k for k in rows[1] if k != 'model'] + ['d_params']
    print(f'{"measure":22s}' + ''.join(f'{r["model"]:>18s}' for r in rows))
    for k in keys:
        print(f'{k:22s}' + ''.join(f'{r.get(k, float("nan")):18.4g}' for r in rows))
    print('(params: diffusion = every part that samples (DiT, VAE, text encoder); GAN = the generator (the frozen text '
          'encoder, 0.1 M, not counted); d_params = both discriminators, used only in training. train_s: from each '
          "model's train_log.json, on the machine and load it was trained under)")
    return rows


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=64, help='prompts per split')
    p.add_argument('--n-div', type=int, default=16, help='seeds for the diversity measure')
    p.add_argument('--repeats', type=int, default=3, help='timed batches per model (the best is kept)')
    p.add_argument('--gan', default=None, help='GAN folder (default: the shipped one)')
    p.add_argument('--ablation', default=None, help='no-GRU GAN folder (default: vidlab/assets/gan/no_gru)')
    a = p.parse_args()
    main(a.n, a.n_div, a.gan, a.ablation, a.repeats)
