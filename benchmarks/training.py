"""Training throughput (not a timed test): this machine's matmul peak (fp32, bf16), and the default text-to-video
recipe's training step as a share of it, in fp32 and under bf16 autocast, with the loss each reaches from the same
start (is bf16 as accurate?). With --buckets: the cost of one transformer training step in each bucket of the bucketed
preset, at the batch size `BucketSampler` gives it (token-scaled), relative to the reference bucket. With --processes:
the default recipe's step (global batch 32) in one process of 1 and of N threads, and data-parallel in N processes of
1 thread each (torchrun, gloo; lesson 19), side by side: how to spend N cores on a model this small.

    python benchmarks/training.py [--threads 1] [--steps 40] [--fit 150]
    python benchmarks/training.py --buckets [--threads 1] [--steps 20]
    python benchmarks/training.py --processes 2 [--steps 100]
    python benchmarks/training.py --depths 3 4 --threads 2 [--steps 100]
    python benchmarks/training.py --text-attention joint cross --threads 2 [--steps 100]
    python benchmarks/training.py --positions absolute rotary --threads 2 [--steps 100]
    python benchmarks/training.py --batch-sizes 32 16 --threads 2 [--steps 100]

With --depths: the `progressive` preset's phase-2 step (its bucket draws and callbacks, as `train_text_to_video` runs
it) with a transformer of each depth, timed in turns of --steps steps, six turns each, so both see the same machine.
With --text-attention: the same, with the prompt read by cross-attention or by joint attention (lesson 10).
With --positions: the same, with sinusoids added to the tokens or rotary positions in the attention (lesson 9).
With --batch-sizes: the same, at these batch sizes (clips per batch at the default size; `BucketSampler` scales them
per bucket): how many steps of a smaller batch fit in the time of the recipe's.

Prints one JSON line per measurement.
"""
import argparse, json, time
import numpy as np
import torch
from vidlab.training import Learner
from vidlab.dit import TEXT_ATTENTIONS, count_flops
from vidlab.positions import POSITIONS
from vidlab.efficiency import matmul_peak_flops, step_flops
from vidlab.pipeline import TextToVideo, TextToVideoConfig
from vidlab.recipe import PRESETS, BUCKETS, BucketSampler, latent_cache, latent_batches, denoising_loss


def learner(cache, mixed_precision, cbs=()):
    "The default recipe's learner (frozen VAE and text encoder, as the preset) from a fixed initialisation."
    config, recipe = PRESETS['default']
    model = TextToVideo(config, seed=0)
    model.vae.requires_grad_(False)
    if not recipe.train_text_encoder: model.text_encoder.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    return Learner(model, denoising_loss, latent_batches(cache, model.make_scheduler('ddpm'), recipe.batch_size),
                   opt=torch.optim.AdamW(params, lr=recipe.lr, weight_decay=0.0), seed=0, mixed_precision=mixed_precision,
                   cbs=list(cbs))


def bucket_costs(a):
    "ms per transformer training step (forward, backward, AdamW) in each bucket, at its token-scaled batch size."
    config, recipe = PRESETS['default']
    model = TextToVideo(config, seed=0)
    dit, (ct, cs) = model.transformer, (4, 4)  # the video VAE compresses 4x in time and in space
    opt = torch.optim.AdamW(dit.parameters(), lr=1e-4)
    sampler = BucketSampler(BUCKETS, recipe.batch_size)
    g = torch.Generator().manual_seed(0)
    rows = []
    for (f, h, w), n in zip(sampler.buckets, sampler.batch_sizes):
        x = torch.randn(n, f // ct, dit.cfg.in_channels, h // cs, w // cs, generator=g)
        text = torch.randn(n, 8, dit.cfg.text_dim, generator=g)
        t = torch.rand(n, generator=g) * 1000
        def step():
            loss = (dit(x, t, text) - x).pow(2).mean()
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        flops = count_flops(lambda: (dit(x, t, text) - x).pow(2).mean().backward())
        for _ in range(2): step()
        times = []
        for _ in range(a.steps):
            t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
        rows.append(dict(bucket=[f, h, w], batch=n, tokens_per_clip=(f // ct) * (h // cs) * (w // cs) // 4,
                         ms_per_step=float(np.median(times)) * 1e3, gflop_per_step=flops / 1e9))
    ref = rows[0]
    for r in rows:
        r.update(tokens_per_batch=r['batch'] * r['tokens_per_clip'], step_cost_vs_reference=round(r['ms_per_step'] / ref['ms_per_step'], 2),
                 flop_vs_reference=round(r['gflop_per_step'] / ref['gflop_per_step'], 2), ms_per_step=round(r['ms_per_step'], 1),
                 gflop_per_step=round(r['gflop_per_step'], 3))
        print(json.dumps(r), flush=True)


VARIANT_CACHE_CLIPS = 512  # --depths, --text-attention, --positions, --batch-sizes: the latent cache's budget in default-size clips (a step costs the same at any size)
VARIANT_TURNS = 6  # --depths, --text-attention, --positions, --batch-sizes: timed turns per variant, interleaved; the median is reported


def transformer_costs(a, field:str, values:list):
    "ms per phase-2 training step of the `progressive` preset with each value of one transformer field (or of the batch size), interleaved (median of the turns)."
    from dataclasses import replace
    from vidlab.recipe import cache_sizes, step_callbacks
    config, recipe = PRESETS['progressive']
    sizes = cache_sizes(config.buckets, VARIANT_CACHE_CLIPS, recipe.bucket_weights)
    encoder = TextToVideo(config, seed=0).eval()  # the VAE and text encoder every variant shares: one cache for all
    caches = [latent_cache(encoder, n, bucket=b) for n, b in zip(sizes, config.buckets)]
    learners = {}
    for value in values:
        batch_size = value if field == 'batch_size' else recipe.batch_size
        model = TextToVideo(config if field == 'batch_size' else replace(config, transformer={**config.transformer, field: value}), seed=0)
        model.vae.requires_grad_(False).eval()
        model.text_encoder.requires_grad_(False).eval()
        params = [p for p in model.parameters() if p.requires_grad]
        data = latent_batches(caches, model.noise_schedule, batch_size, BucketSampler(config.buckets, batch_size, recipe.bucket_weights))
        opt = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=0.0)
        learners[value] = (Learner(model, denoising_loss, data, opt=opt, cbs=step_callbacks(model, recipe), seed=0),
                           sum(p.numel() for p in params))
        learners[value][0].fit(10)  # warm-up steps, untimed
    times = {v: [] for v in learners}
    for _ in range(VARIANT_TURNS):
        for v, (learn, _) in learners.items():
            t = time.perf_counter()
            learn.fit(learn.step + a.steps)
            times[v].append((time.perf_counter() - t) / a.steps)
    ref = float(np.median(times[values[-1]]))
    for v, (learn, n) in learners.items():
        print(json.dumps({field: v, 'trained_parameters': n, 'ms_per_step': round(float(np.median(times[v])) * 1e3, 1),
                          'vs_last': round(float(np.median(times[v])) / ref, 2)}), flush=True)


def process_worker(a):
    "One process of a --processes run: time the default recipe's steps, each process on its shard of the global batch."
    from vidlab.ecosystem import DataParallel, init_distributed, leave_distributed
    rank, size = init_distributed(torch.device('cpu'))
    try:
        cache = latent_cache(TextToVideo(TextToVideoConfig(), seed=0).eval(), 256)
        learn = learner(cache, None, [DataParallel()])
        learn.fit(5)
        t = time.perf_counter()
        learn.fit(5 + a.steps)
        dt = (time.perf_counter() - t) / a.steps
    finally:
        leave_distributed()  # before Python exits: a process still in the group at shutdown can abort (SIGABRT)
    if rank == 0:
        print(json.dumps(dict(processes=size, threads_per_process=torch.get_num_threads(), global_batch=PRESETS['default'][1].batch_size,
                              ms_per_step=round(dt * 1e3, 1))), flush=True)


def process_costs(a):
    "The same steps in one process (1 thread, then N) and in N processes of 1 thread, one after the other."
    from vidlab.ecosystem import torchrun
    rows = []
    for procs, threads in ((1, 1), (1, a.processes), (a.processes, 1)):
        r = torchrun(procs, __file__, '--worker', '--threads', str(threads), '--steps', str(a.steps), timeout=1800,
                     env=dict(OMP_NUM_THREADS=str(threads)))
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    print(json.dumps(dict(speedup_of_processes_over_threads=round(rows[1]['ms_per_step'] / rows[2]['ms_per_step'], 2))), flush=True)


def main(a):
    peaks = {k: matmul_peak_flops(dt, n=2048, repeats=5) for k, dt in (('fp32', torch.float32), ('bf16', torch.bfloat16))}
    print(json.dumps(dict(threads=torch.get_num_threads(), matmul_peak_gflops={k: round(v / 1e9, 1) for k, v in peaks.items()})), flush=True)
    cache = latent_cache(TextToVideo(TextToVideoConfig(), seed=0).eval(), 256)  # untrained VAE: a step costs the same
    for mp in (None, 'bf16'):
        learn = learner(cache, mp)
        flops = step_flops(learn)
        learn.fit(3)
        t = time.perf_counter(); learn.fit(3 + a.steps); dt = (time.perf_counter() - t) / a.steps
        learn = learner(cache, mp).fit(a.fit)  # accuracy: same start, same batches
        print(json.dumps(dict(precision=mp or 'fp32', ms_per_step=round(dt * 1e3, 1), gflop_per_step=round(flops / 1e9, 2),
                              gflops=round(flops / dt / 1e9, 2), share_of_fp32_peak=round(flops / dt / peaks['fp32'], 3),
                              share_of_bf16_peak=round(flops / dt / peaks['bf16'], 3),
                              loss_after_fit=round(float(np.mean([h['loss'] for h in learn.history[-20:]])), 4))), flush=True)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--threads', type=int, default=1, help='torch threads (1: the machine is shared; 2: its cores)')
    p.add_argument('--steps', type=int, default=40, help='timed training steps')
    p.add_argument('--fit', type=int, default=150, help='steps trained to compare the loss of fp32 and bf16')
    p.add_argument('--buckets', action='store_true', help='the cost of a training step per bucket instead')
    p.add_argument('--processes', type=int, default=None, help='threads against data-parallel processes on this many cores')
    p.add_argument('--depths', type=int, nargs='+', default=None, help="the progressive preset's phase-2 step at these transformer depths")
    p.add_argument('--text-attention', nargs='+', default=None, choices=TEXT_ATTENTIONS,
                   help="the same step with these ways of reading the prompt (lesson 10: 'cross', 'joint')")
    p.add_argument('--positions', nargs='+', default=None, choices=POSITIONS,
                   help="the same step with these ways of placing the tokens (lesson 9: 'absolute', 'rotary')")
    p.add_argument('--batch-sizes', type=int, nargs='+', default=None, help="the same step at these batch sizes (clips at the default size)")
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)  # one process of a --processes run
    a = p.parse_args()
    if a.processes is not None and a.processes < 2: p.error(f'--processes must be at least 2, got {a.processes}')
    if a.depths and min(a.depths) < 1: p.error(f'--depths must be positive, got {a.depths}')
    if a.batch_sizes and min(a.batch_sizes) < 1: p.error(f'--batch-sizes must be positive, got {a.batch_sizes}')
    torch.set_num_threads(a.threads)
    if a.worker: process_worker(a)
    elif a.processes: process_costs(a)
    elif a.buckets: bucket_costs(a)
    elif a.depths: transformer_costs(a, 'depth', a.depths)
    elif a.text_attention: transformer_costs(a, 'text_attention', a.text_attention)
    elif a.positions: transformer_costs(a, 'positions', a.positions)
    elif a.batch_sizes: transformer_costs(a, 'batch_size', a.batch_sizes)
    else: main(a)
