#!/usr/bin/env python3
"""Denoiser speed: milliseconds and FLOPs per forward pass of `VideoDiT` over a few configurations.

    python benchmarks/dit_speed.py                      # 1 and 2 threads, on the CPU
    python benchmarks/dit_speed.py --threads 2 --device cuda

A pass is batch 2 (a prompt and the empty prompt of classifier-free guidance) with the prompt encoded once, as a
sampler runs it; "25 steps" is 25 such passes, the denoiser's share of generating one video. FLOPs are counted by
torch's FlopCounterMode (matmuls and attention). Wall time is the best of several medians, since a shared machine
only ever slows a run down; "cpu ms" is the process CPU time per pass, which on a busy machine is the better
estimate of a quiet machine's wall time for one thread. The matmul peak puts the achieved GFLOP/s in context.
"""
import argparse, math, time
import torch
from vidlab.core import get_device
from vidlab.dit import DiTConfig, VideoDiT, forward_flops, time_forward, patch_grid, _dummy_inputs
from vidlab.efficiency import matmul_peak_flops

CONFIGS = [  # (name, latent (f, h, w), config)
    ('default factorized', (4, 8, 8), DiTConfig()),
    ('default full', (4, 8, 8), DiTConfig(attention='full')),
    ('8 latent ch, 8 frames', (8, 8, 8), DiTConfig(in_channels=8)),
    ('patch 1x1x1', (4, 8, 8), DiTConfig(patch_size=(1, 1, 1))),
    ('dim 192, depth 6', (4, 8, 8), DiTConfig(dim=192, depth=6, heads=6)),
    ('mlp_ratio 2', (4, 8, 8), DiTConfig(mlp_ratio=2.0)),
    ('16x16 latent factorized', (8, 16, 16), DiTConfig()),
    ('16x16 latent full', (8, 16, 16), DiTConfig(attention='full')),
]


def cpu_seconds(model, size, batch=2, repeats=20) -> float:
    "Process CPU seconds per forward pass (all threads together)."
    x, t, ctx = _dummy_inputs(model, batch, size, 8)
    with torch.inference_mode():
        model(x, t, context=ctx)
        start = time.process_time()
        for _ in range(repeats): model(x, t, context=ctx)
    return (time.process_time() - start) / repeats


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, nargs='+', default=[1, 2], help='CPU thread counts to measure')
    ap.add_argument('--device', default=None, help='cpu, cuda or mps (default: vidlab.core.get_device())')
    ap.add_argument('--repeats', type=int, default=20, help='timed passes per median')
    ap.add_argument('--trials', type=int, default=3, help='medians taken; the best is reported')
    ap.add_argument('--steps', type=int, default=25, help='sampling steps for the per-video estimate')
    args = ap.parse_args()
    device = get_device(args.device)
    for threads in args.threads:
        torch.set_num_threads(threads)
        print(f'\ndevice {device}, {threads} thread(s), matmul peak {matmul_peak_flops(torch.float32, n=1024, repeats=10, device=device) / 1e9:.0f} GFLOP/s')
        print(f"{'config':<24} {'latent':>11} {'tokens':>6} {'params':>8} {'MFLOP/pass':>10} {'ms/pass':>8} "
              f"{'cpu ms':>7} {'GFLOP/s':>8} {f'{args.steps} steps s':>11}")
        for name, size, cfg in CONFIGS:
            model = VideoDiT(cfg, seed=0).to(device).eval()
            flops = forward_flops(model, size, batch=2)
            sec = min(time_forward(model, size, batch=2, repeats=args.repeats) for _ in range(args.trials))
            cpu = cpu_seconds(model, size, repeats=args.repeats) if device.type == 'cpu' else float('nan')
            print(f'{name:<24} {str(size):>11} {math.prod(patch_grid(size, cfg.patch_size)):>6} '
                  f'{sum(p.numel() for p in model.parameters()) / 1e6:>7.2f}M {flops / 1e6:>10.1f} {sec * 1e3:>8.2f} '
                  f'{cpu * 1e3:>7.2f} {flops / sec / 1e9:>8.1f} {args.steps * sec:>11.3f}')


if __name__ == '__main__':
    main()
