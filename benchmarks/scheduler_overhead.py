#!/usr/bin/env python3
"""Time per `step` of vidlab's schedulers against diffusers' on a video latent (default (1, 16, 4, 8, 8)).

    python benchmarks/scheduler_overhead.py                      # cpu, 50 steps, best of 5 loops
    python benchmarks/scheduler_overhead.py --device cuda        # on a GPU (synchronised once per loop)

A loop is `set_timesteps(n)` then n steps with a fixed model output (no model), so the time is the scheduler's own
overhead: what every sampling step pays on top of the network. Prints a markdown table (microseconds per step).
"""
import argparse, time
import torch
from diffusers import DDIMScheduler as HFDDIM, DDPMScheduler as HFDDPM, FlowMatchEulerDiscreteScheduler as HFFlow
from vidlab.samplers import DDIMScheduler, DDPMScheduler, FlowMatchEulerScheduler

CASES = [  # name, vidlab scheduler, diffusers scheduler, step kwargs
    ('DDPM', DDPMScheduler, HFDDPM, {}),
    ('DDIM eta=0', DDIMScheduler, HFDDIM, dict(eta=0.0)),
    ('DDIM eta=1', DDIMScheduler, HFDDIM, dict(eta=1.0)),
    ('flow (Euler)', FlowMatchEulerScheduler, HFFlow, {}),
]


def loop_time(sched, shape, steps, device, kw, repeats):
    "Best wall time of `repeats` loops of `steps` steps, in seconds per step."
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    g = torch.Generator(device=device).manual_seed(0)
    x0 = torch.randn(shape, generator=g, device=device)
    out = torch.randn(shape, generator=g, device=device)
    best = float('inf')
    for r in range(repeats + 1):  # the first loop warms up (tables, allocator)
        sched.set_timesteps(steps, device=device)
        x = x0
        sync(); t = time.perf_counter()
        for ts in sched.timesteps: x = sched.step(out, ts, x, generator=g, **kw).prev_sample
        sync(); dt = (time.perf_counter() - t) / steps
        if r: best = min(best, dt)
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu')
    p.add_argument('--steps', type=int, default=50)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--shape', default='1,16,4,8,8', help='latent shape (b, f, c, h, w)')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    device, shape = torch.device(a.device), tuple(int(s) for s in a.shape.split(','))
    print(f'scheduler overhead per step, latent {shape}, {a.steps} steps, {device}, best of {a.repeats}\n')
    print('| sampler | vidlab (us/step) | diffusers (us/step) | ratio |')
    print('| --- | ---: | ---: | ---: |')
    for name, ours, theirs, kw in CASES:
        o = loop_time(ours(), shape, a.steps, device, kw, a.repeats) * 1e6
        d = loop_time(theirs(), shape, a.steps, device, kw, a.repeats) * 1e6
        print(f'| {name} | {o:.0f} | {d:.0f} | {d / o:.2f}x |')


if __name__ == '__main__':
    main()
