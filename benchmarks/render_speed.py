"""Rendering speed of the shapes world: clips/s of 16 x 32 x 32 clips via `ShapesWorld.batch`.

    python benchmarks/render_speed.py [--seconds 3] [--batch-size 64 256] [--threads 1 2]

Prints one line per (thread count, batch size) and the machine's load average: the target, 2,000 clips/s on 2 cores,
assumes the cores are not busy with other work. Batches over ~32 MB (more than ~160 clips of 16 x 32 x 32) are slower
per clip: glibc hands such blocks back to the OS when freed, so every batch pays page faults on fresh memory.
"""
import argparse, os, time
import torch
from vidlab.data import ShapesWorld


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
    p.add_argument('--size', type=int, default=32)
    a = p.parse_args()
    world = ShapesWorld('train', frames=a.frames, size=a.size, length=1_000_000)
    print(f'load average before: {" ".join(f"{x:.2f}" for x in os.getloadavg())} on {os.cpu_count()} cores')
    for t in a.threads:
        torch.set_num_threads(t)
        for bs in a.batch_size:
            rate = clips_per_second(world, bs, a.seconds)
            print(f'threads={t} batch={bs} {a.frames}x{a.size}x{a.size}: {rate:,.0f} clips/s')
    print(f'load average after: {" ".join(f"{x:.2f}" for x in os.getloadavg())}')


if __name__ == '__main__': main()
