#!/usr/bin/env python3
"""Train a VAE preset from scratch on the shapes world, then report what its reconstructions keep.

    python benchmarks/vae_quality.py                          # the default VAE, default training, 2 threads
    python benchmarks/vae_quality.py --preset frame --steps 300 --out runs/vae_frame
    python benchmarks/vae_quality.py --pretrained vidlab/assets/default   # no training: the shipped model's VAE

Prints the training wall time and process CPU time (on a shared machine the CPU time divided by the threads is the
better estimate of a quiet machine's wall time), steps per second, PSNR and the evaluator's prompt fidelity of
reconstructions of held-out clips (attribute combinations never seen in training), and the latent shape of a default
16 x 32 x 32 clip. `--out` saves the trained VAE (config.json + model.safetensors) for later lessons.
`--pretrained` skips training and evaluates a saved VAE (a `save_vae` folder or a text-to-video model folder): the
PSNR and fidelity lesson 06 quotes for the shipped model come from `--pretrained vidlab/assets/default`.
"""
import argparse, json, os, time
import vidlab  # first, before torch loads OpenMP: it sets the threads' wait (a short spin, then sleep; lesson 20), fast
# on a quiet machine and on a busy one (libgomp's long spin made 2-thread training 10x slower on a busy 2-core machine)
import torch
from vidlab.vae import VAE_PRESETS
from vidlab.vae_training import VAETrainConfig, train_vae, evaluate_vae, save_vae, load_vae


def evaluate_saved(path, n, json_path=None):
    "Evaluate a saved VAE (or a model folder's VAE) without training: PSNR, fidelity, latent shape, scaling."
    vae = load_vae(path, device='cpu')
    t0 = time.perf_counter()
    res = evaluate_vae(vae, n=n)
    out = dict(pretrained=str(path), psnr_db=round(res['psnr'], 2),
               fidelity={k: res[k] for k in ('all', 'colour', 'shape', 'size', 'direction', 'n')},
               eval_s=round(time.perf_counter() - t0, 1), latent_shape_16x32x32=list(vae.latent_shape(16, 32, 32)),
               scaling_factor=round(vae.config.scaling_factor, 4), shift_factor=round(vae.config.shift_factor, 4),
               parameters=sum(q.numel() for q in vae.parameters()))
    print(json.dumps(out, indent=1))
    if json_path:
        with open(json_path, 'w') as f: json.dump(out, f, indent=1)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--preset', default='default', choices=list(VAE_PRESETS), help='which VAE to train')
    p.add_argument('--steps', type=int, help=f'training steps (default {VAETrainConfig.steps})')
    p.add_argument('--batch-size', type=int, help=f'clips per step (default {VAETrainConfig.batch_size})')
    p.add_argument('--lr', type=float, help=f'peak learning rate (default {VAETrainConfig.lr})')
    p.add_argument('--seed', type=int, default=0, help='training seed')
    p.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    p.add_argument('--n', type=int, default=512, help='held-out clips to evaluate')
    p.add_argument('--out', help='folder to save the trained VAE in')
    p.add_argument('--json', help='also write the results to this JSON file')
    p.add_argument('--pretrained', help='evaluate this saved VAE or model folder instead of training one')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.pretrained: return evaluate_saved(a.pretrained, a.n, a.json)
    overrides = {k: v for k, v in dict(steps=a.steps, batch_size=a.batch_size, lr=a.lr, seed=a.seed).items() if v is not None}
    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    vae, hist = train_vae(a.preset, progress=True, device='cpu', **overrides)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    steps = len(hist['step'])
    t1 = time.perf_counter()
    res = evaluate_vae(vae, n=a.n)
    out = dict(preset=a.preset, steps=steps, threads=a.threads, train_wall_s=round(wall, 1), train_cpu_s=round(cpu, 1),
               cpu_s_per_thread=round(cpu / a.threads, 1), steps_per_s=round(steps / wall, 2),
               load_avg_before=round(load0, 1), load_avg_after=round(os.getloadavg()[0], 1),
               final_loss=round(sum(hist['loss'][-20:]) / len(hist['loss'][-20:]), 4),
               psnr_db=round(res['psnr'], 2), fidelity={k: res[k] for k in ('all', 'colour', 'shape', 'size', 'direction', 'n')},
               eval_s=round(time.perf_counter() - t1, 1), latent_shape_16x32x32=list(vae.latent_shape(16, 32, 32)),
               scaling_factor=round(vae.config.scaling_factor, 4), shift_factor=round(vae.config.shift_factor, 4),
               parameters=sum(q.numel() for q in vae.parameters()))
    print(json.dumps(out, indent=1))
    if a.json:
        with open(a.json, 'w') as f: json.dump(out, f, indent=1)
    if a.out: print('saved to', save_vae(vae, a.out))
    return out


if __name__ == '__main__':
    main()
