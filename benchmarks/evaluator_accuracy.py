"""Accuracy and speed of the pixel evaluator on the shapes world, clean and degraded, at every clip size; and its objectness figures.

    python benchmarks/evaluator_accuracy.py [--seeds 20] [--frames 16] [--height 32] [--width 32]
    python benchmarks/evaluator_accuracy.py --sizes [--seeds 3]     # the table over clip sizes (frames x height x width)
    python benchmarks/evaluator_accuracy.py --objectness            # the figures behind MIN_OVERLAP and MAX_STRAY

For each (blur sigma, noise std) it renders all 192 combinations once per seed, degrades them, and prints the prompt
fidelity of `vidlab.evaluation.describe` against the true captions (overall and per attribute), then how many videos
per second `describe_batch` judges. `--sizes` prints one line per clip size (clean, and blur 0.5 + noise 0.05).
`--objectness` prints, for real clips (clean, degraded, and the shipped model's videos) and for clips with no object
(noise of several brightnesses, flat grey), the best mean IoU with an ideal silhouette and the share of stray object
pixels outside the largest blob: the two tests `describe` uses to say "no object".
"""
import argparse, time
import torch
from vidlab.data import ShapesWorld, caption, combinations
from vidlab.evaluation import (MAX_STRAY, MIN_OVERLAP, as_video_batch, blob_stats, degrade, describe_batch, largest_blob,
                               object_mask, prompt_fidelity, shape_scores)

SETTINGS = [(0.0, 0.0), (0.5, 0.05), (0.7, 0.05), (0.5, 0.1), (1.0, 0.1)]  # (blur sigma px, noise std)
SIZES = [(8, 24, 24), (16, 32, 32), (32, 64, 64), (16, 32, 64), (16, 64, 32), (16, 16, 16)]  # (frames, height, width)
SPECS = [caption(c) for c in combinations('all')]


def fidelity(world, seeds, sigma=0.0, noise=0.0) -> dict:
    "Evaluator fidelity on all 192 combinations, once per seed, pooled over seeds."
    totals, n = {}, 0
    for seed in range(seeds):
        v = world.render_batch(SPECS, seed=seed)['video']
        if sigma or noise: v = degrade(v, sigma, noise, seed=seed)
        r = prompt_fidelity(v, SPECS)
        for k in ('all', 'colour', 'shape', 'size', 'direction'): totals[k] = totals.get(k, 0) + r[k] * r['n']
        n += r['n']
    return {k: v / n for k, v in totals.items()} | {'n': n}


def objectness(videos) -> tuple[torch.Tensor, torch.Tensor]:
    "Per clip: best mean IoU with an ideal silhouette, and the share of object pixels outside the largest blob."
    x = as_video_batch(videos)
    b, f, _, h, w = x.shape
    mask = object_mask(x)
    blob = largest_blob(mask.view(b * f, h, w)).view(b, f, h, w)
    stray = (mask & ~blob).sum((1, 2, 3)) / mask.sum((1, 2, 3)).clamp(min=1)
    return shape_scores(blob, blob_stats(blob)[1]).amax(1), stray


def objectness_report(seed:int=0):
    print(f'MIN_OVERLAP={MIN_OVERLAP} MAX_STRAY={MAX_STRAY}')
    for f, h, w in SIZES:
        world = ShapesWorld('all', frames=f, height=h, width=w)
        for sigma, noise in [(0, 0), (0.5, 0.05), (1.0, 0.1)]:
            v = world.render_batch(SPECS, seed=seed)['video']
            if sigma: v = degrade(v, sigma, noise, seed=seed)
            iou, stray = objectness(v)
            print(f'real {f}x{h}x{w} sigma={sigma} noise={noise}: best IoU min {iou.min():.3f}, stray max {stray.max():.3f}')
    try:
        from vidlab.pipeline import TextToVideoPipeline
        pipe = TextToVideoPipeline.from_pretrained()
        prompts = ShapesWorld('train', seed=5).batch(range(128))['caption']
        iou, stray = objectness(pipe.model.generate(prompts, seed=seed))
        print(f'shipped model, 128 videos: best IoU min {iou.min():.3f}, stray max {stray.max():.3f}')
    except Exception as e: print(f'shipped model: skipped ({type(e).__name__}: {e})')
    g = torch.Generator().manual_seed(seed)
    for h, w in [(16, 16), (24, 24), (32, 32), (64, 64), (32, 64)]:
        for a in (0.4, 0.5, 0.6, 0.8, 1.0):
            v = a * torch.rand(16, 8, 3, h, w, generator=g)
            iou, stray = objectness(v)
            seen = sum(d['colour'] is not None for d in describe_batch(v))
            print(f'noise [0, {a}] {h}x{w}: best IoU max {iou.max():.3f}, stray min {stray.min():.3f}; read as an object: {seen}/16')
        iou, stray = objectness(torch.full((4, 8, 3, h, w), 0.5))
        print(f'flat grey 0.5 {h}x{w}: best IoU {iou.max():.3f}')


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seeds', type=int, default=20, help='renders of each of the 192 combinations')
    p.add_argument('--frames', type=int, default=16)
    p.add_argument('--height', type=int, default=32)
    p.add_argument('--width', type=int, default=32)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--sizes', action='store_true', help='one line per clip size instead of the degradation sweep')
    p.add_argument('--objectness', action='store_true', help='the figures behind the "no object" rule')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.objectness: return objectness_report()
    if a.sizes:
        for f, h, w in SIZES:
            world = ShapesWorld('all', frames=f, height=h, width=w)
            clean, noisy = fidelity(world, a.seeds), fidelity(world, a.seeds, 0.5, 0.05)
            print(f'{f}x{h}x{w} n={clean["n"]}: clean all={clean["all"]:.4f}, blur 0.5 + noise 0.05 all={noisy["all"]:.4f}')
        return
    world = ShapesWorld('all', frames=a.frames, height=a.height, width=a.width)
    for sigma, noise in SETTINGS:
        r = fidelity(world, a.seeds, sigma, noise)
        print(f'sigma={sigma} noise={noise} n={r["n"]}: ' + ', '.join(f'{k}={v:.4f}' for k, v in r.items() if k != 'n'))
    v = world.render_batch(SPECS, seed=0)['video']
    t0 = time.perf_counter(); describe_batch(v); dt = time.perf_counter() - t0
    print(f'describe_batch: {len(SPECS) / dt:,.0f} videos/s ({a.frames}x{a.height}x{a.width}, {a.threads} thread(s))')


if __name__ == '__main__': main()
