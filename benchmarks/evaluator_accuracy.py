"""Accuracy and speed of the pixel evaluator on the shapes world, clean and degraded.

    python benchmarks/evaluator_accuracy.py [--seeds 20]

For each (blur sigma, noise std) it renders all 192 combinations once per seed, degrades them, and prints the prompt
fidelity of `vidlab.evaluation.describe` against the true captions (overall and per attribute), then how many videos
per second `describe_batch` judges.
"""
import argparse, time
import torch
from vidlab.data import ShapesWorld, caption, combinations
from vidlab.evaluation import degrade, describe_batch, prompt_fidelity

SETTINGS = [(0.0, 0.0), (0.5, 0.05), (0.7, 0.05), (0.5, 0.1), (1.0, 0.1)]  # (blur sigma px, noise std)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seeds', type=int, default=20, help='renders of each of the 192 combinations')
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--frames', type=int, default=16)
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    world = ShapesWorld('all', frames=a.frames, size=a.size)
    specs = [caption(c) for c in combinations('all')]
    for sigma, noise in SETTINGS:
        totals, n, misses = {}, 0, []
        for seed in range(a.seeds):
            v = world.render_batch(specs, seed=seed)['video']
            if sigma or noise: v = degrade(v, sigma, noise, seed=seed)
            r = prompt_fidelity(v, specs)
            for k in ('all', 'colour', 'shape', 'size', 'direction'): totals[k] = totals.get(k, 0) + r[k] * r['n']
            n += r['n']
        print(f'sigma={sigma} noise={noise} n={n}: ' + ', '.join(f'{k}={v / n:.4f}' for k, v in totals.items()))
    v = world.render_batch(specs, seed=0)['video']
    t0 = time.perf_counter(); describe_batch(v); dt = time.perf_counter() - t0
    print(f'describe_batch: {len(specs) / dt:,.0f} videos/s ({a.frames}x{a.size}x{a.size}, {a.threads} thread(s))')


if __name__ == '__main__': main()
