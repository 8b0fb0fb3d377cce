"""Rendering speed of the shapes world: clips/s via `ShapesWorld.batch` (default 16 x 32 x 32 clips).

    python benchmarks/render_speed.py [--seconds 3] [--batch-size 64 256] [--threads 1 2] [--frames 16 --height 32 --width 32]
    python benchmarks/render_speed.py --sizes [--seconds 2]     # one line per clip size (frames x height x width)

Prints one line per (thread count, batch size) and the machine's load average: the target, 2,000 clips/s on 2 cores,
assumes the cores are not busy with other work. Batches over ~32 MB (more than ~160 clips of 16 x 32 x 32) are slower
per clip: glibc hands such blocks back to the OS when freed, so every batch pays page faults on fresh memory.
"""
import argparse, os, time
import torch
from vidlab.data import ShapesWorld

SIZES = [(16, 32, 32), (8, 24, 24), (32, 64, 64), (16, 32, 64), (16, 64, 32)]  # (frames, height, width) for --sizes


def clips_per_second(world:ShapesWorld, batch_size:int, seconds:float) -> float:
    "Render consecutive batches for about `seconds`; return clips per second."
    world.batch(range(batch_size))  # warm up
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        n += len(world.batch(range(n % (len(world) - batch_size), n % (len(world) - batch_size) + batch_size))['caption'])
    return n / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seconds', type=float, default=3.0, help='how long to render for each thread count')
    p.add_argument('--batch-size', type=int, nargs='+', default=[64, 256], help='clips per ShapesWorld.batch call')
    p.add_argument('--threads', type=int, nargs='+', default=[1, 2], help='torch thread counts to try')
    p.add_argument('--frames', type=int, default=16)
    p.add_argument('--height', type=int, default=32)
    p.add_argument('--width', type=int, default=32)
    p.add_argument('--sizes', action='store_true', help='every size in SIZES (one thread, batch 64) instead')
    a = p.parse_args()
    print(f'load average before: {" ".join(f"{x:.2f}" for x in os.getloadavg())} on {os.cpu_count()} cores')
    if a.sizes:
        torch.set_num_threads(1)
        base = None
        for f, h, w in SIZES:
            rate = clips_per_second(ShapesWorld('train', frames=f, height=h, width=w, length=1_000_000), 64, a.seconds)
            base = base or rate
            print(f'{f}x{h}x{w}: {rate:,.0f} clips/s, {rate * f * h * w / 1e6:,.1f} Mpixel/s ({rate / base:.2f}x the first)')
    for t in ([] if a.sizes else a.threads):
        torch.set_num_threads(t)
        world = ShapesWorld('train', frames=a.frames, height=a.height, width=a.width, length=1_000_000)
        for bs in a.batch_size:
            rate = clips_per_second(world, bs, a.seconds)
            print(f'threads={t} batch={bs} {a.frames}x{a.height}x{a.width}: {rate:,.0f} clips/s')
    print(f'load average after: {" ".join(f"{x:.2f}" for x in os.getloadavg())}')


if __name__ == '__main__': main()
