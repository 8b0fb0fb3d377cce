"""Prompt fidelity of a model judged by the evaluator (issue 6 and 13 targets), seen vs held-out combinations, and the
generated videos' mean frame-to-frame change against real clips; with --buckets, one row per supported size.

    python benchmarks/fidelity.py [--n 240] [--steps 25] [--guidance 3] [--seed 0] [--model DIR]     # the default size
    python benchmarks/fidelity.py --buckets --n 100 [--model DIR]                      # every bucket of the model's config
    python benchmarks/fidelity.py --buckets --sizes 16x32x32 8x32x32 16x32x64 [--model DIR]   # these (frames x h x w)
    python benchmarks/fidelity.py --buckets --vae --n 64 [--model DIR]   # the VAE alone: PSNR and fidelity of reconstructions
    python benchmarks/fidelity.py --buckets --restart 0 2 4 6 8 --n 256 [--model DIR]   # which noise levels decide the misses
    python benchmarks/fidelity.py --buckets --misses --n 128 [--model DIR]   # what the wrong videos got wrong, by direction

--restart K starts the sampler from each real clip's own latents noised to step K of the schedule (SDEdit from the
truth; 0: from pure noise) and judges the result against the clip's caption; the last column is the VAE's
reconstruction of the same clips. A share that climbs with K says the misses are decided at the noise levels before
step K (the transformer's); one that stays at the VAE's says the VAE is the ceiling (lesson 14).

--misses judges the same videos as the plain --buckets table, and per size and split counts the videos wrong among
prompts whose motion runs along the frame's longer side (left / right in a landscape frame, up / down in a portrait
one) and across it (every direction counts as "along" in a square frame), and the most common mistakes as
attribute: stated -> seen.
"""
import argparse, time, warnings
import torch
from vidlab.evaluation import evaluate_pipeline
from vidlab.pipeline import TextToVideoPipeline
from vidlab.recipe import BUCKETS

p = argparse.ArgumentParser()
p.add_argument('--n', type=int, default=240, help='videos per split')
p.add_argument('--steps', type=int, default=None, help="sampler steps (default: the model's)")
p.add_argument('--seed', type=int, default=0)
p.add_argument('--guidance', type=float, default=None, help="classifier-free guidance scale (default: the model's)")
p.add_argument('--model', default=None, help='model folder (default: the shipped model)')
p.add_argument('--threads', type=int, default=2)
p.add_argument('--device', default=None)
p.add_argument('--buckets', action='store_true', help="one row per size: the model's buckets, or --sizes")
p.add_argument('--vae', action='store_true', help='with --buckets: judge the VAE\'s reconstructions of --n held-out '
               'clips per size instead of generated videos')
p.add_argument('--restart', type=int, nargs='+', default=None, metavar='K',
               help='with --buckets: start from real clips noised to sampler step K (0: from noise); see above')
p.add_argument('--misses', action='store_true', help='with --buckets: what the wrong videos got wrong (see above)')
p.add_argument('--sizes', nargs='*', default=None, help='FxHxW sizes for --buckets (default: the model config\'s buckets; '
               '"table" for the bucketed preset\'s table)')
a = p.parse_args()
if (a.vae or a.restart or a.misses) and not a.buckets: p.error('--vae, --restart and --misses need --buckets')
if a.vae + bool(a.restart) + a.misses > 1: p.error('give one of --vae, --restart and --misses, not several')
torch.set_num_threads(a.threads)
pipe = TextToVideoPipeline.from_pretrained(a.model, device=a.device)
n_steps = a.steps or pipe.config.num_inference_steps
if a.restart and not all(0 <= k < n_steps for k in a.restart):
    p.error(f'--restart steps must be from 0 to {n_steps - 1} (the sampler has {n_steps} steps), got {a.restart}')
t = time.time()
if not a.buckets:
    report = evaluate_pipeline(pipe, n=a.n, num_inference_steps=a.steps, guidance_scale=a.guidance, seed=a.seed)
    for split, r in report.items():
        print(f'{split:8s} ' + '  '.join(f'{k} {v:.3f}' if isinstance(v, float) else f'{k} {v}' for k, v in r.items()))
else:
    if a.sizes == ['table']: sizes = BUCKETS
    elif a.sizes: sizes = [[int(v) for v in s.split('x')] for s in a.sizes]
    else: sizes = pipe.config.buckets
    what = 'held-out clips' if a.vae else 'real clips (seen combinations)' if a.restart else 'videos per split'
    print(f'model: {a.model or "shipped"}; trained on {pipe.config.buckets}; {a.n} {what} per size')
if a.buckets and a.vae:
    from vidlab.data import ShapesWorld
    from vidlab.vae_training import evaluate_vae, EVAL_SEED
    print(f"{'frames x h x w':>15s} {'PSNR dB':>7s} {'all':>6s} {'colour':>6s} {'shape':>6s} {'size':>6s} {'direction':>9s}  (VAE reconstructions, held-out clips)")
    for f, h, w in sizes:
        r = evaluate_vae(pipe.model.vae, ShapesWorld('heldout', frames=f, height=h, width=w, seed=EVAL_SEED), n=a.n, batch_size=16)
        print(f"{f'{f}x{h}x{w}':>15s} {r['psnr']:7.2f} {r['all']:6.3f} {r['colour']:6.3f} {r['shape']:6.3f} {r['size']:6.3f} {r['direction']:9.3f}", flush=True)
elif a.buckets and a.restart:
    from vidlab.core import to_tensor_video
    from vidlab.data import ShapesWorld
    from vidlab.evaluation import judge
    m = pipe.model
    sched = m.make_scheduler('ddim')
    sched.set_timesteps(n_steps)
    print('the share whose caption is followed, sampling from each clip noised to step K (its sigma at the default size), and the VAE alone')
    print(f"{'frames x h x w':>15s} " + ' '.join(f'{f"K={k} ({sched.sigmas[k]:.2f})":>13s}' for k in a.restart) + f" {'VAE':>6s}")
    judged = lambda clips, captions: sum(j['ok'] for j in judge(torch.stack([to_tensor_video(c) for c in clips]), captions))
    for f, h, w in sizes:
        world, ok, vae_ok = ShapesWorld('train', frames=f, height=h, width=w, seed=a.seed), dict.fromkeys(a.restart, 0), 0
        sched = m.make_scheduler('ddim', (f, h, w))  # the pipeline's schedule at this size (its shift, with size_shift)
        sched.set_timesteps(n_steps)
        for i in range(0, a.n, 64):
            b = world.batch(range(i, min(a.n, i + 64)))
            with torch.no_grad():
                z0 = m.encode_video(b['video'].to(m.device))  # (b, f', c, h', w') the truth's latents
                vae_ok += judged(m.decode_latents(z0).float().cpu(), b['caption'])
            noise = torch.randn(z0.shape, generator=torch.Generator().manual_seed(a.seed + i)).to(m.device)
            for k in a.restart:
                def from_truth(pipe, step, t, d, k=k):  # after step k - 1 the latents become the truth noised to step k
                    if k and step == k - 1: return dict(latents=sched.add_noise(z0, noise, sched.timesteps[k].reshape(1)))
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')  # untrained sizes: asked for
                    v = pipe(b['caption'], f, h, w, num_inference_steps=n_steps, guidance_scale=a.guidance, seed=a.seed + i,
                             callback_on_step_end=from_truth).frames
                ok[k] += judged(v, b['caption'])
        print(f"{f'{f}x{h}x{w}':>15s} " + ' '.join(f'{ok[k] / a.n:13.3f}' for k in a.restart) + f' {vae_ok / a.n:6.3f}', flush=True)
elif a.buckets and a.misses:
    from collections import Counter
    from vidlab.data import ShapesWorld
    from vidlab.evaluation import judge, pipeline_videos
    MISTAKES = 3  # the most common mistakes printed per row
    print(f"{'frames x h x w':>15s} {'split':>8s} {'wrong, along':>14s} {'wrong, across':>14s}  most common mistakes (attribute: stated -> seen)")
    for f, h, w in sizes:
        along = {'left', 'right'} if w > h else {'up', 'down'} if h > w else {'left', 'right', 'up', 'down'}
        for split in ('train', 'heldout'):
            real = ShapesWorld(split, frames=f, height=h, width=w, seed=a.seed).batch(range(a.n))
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')  # untrained sizes: asked for
                videos = pipeline_videos(pipe, real['caption'], (f, h, w), a.steps, a.guidance, a.seed)  # the plain table's videos
            js = judge(videos, real['caption'])
            count = lambda keep: f"{sum(not j['ok'] for j in js if keep(j))} of {sum(keep(j) for j in js)}"
            mistakes = Counter(f"{k}: {j['stated'][k]} -> {j['seen'][k]}" for j in js for k, ok in j['right'].items() if not ok)
            print(f"{f'{f}x{h}x{w}':>15s} {'seen' if split == 'train' else 'held-out':>8s} "
                  f"{count(lambda j: j['stated'].get('direction') in along):>14s} "
                  f"{count(lambda j: j['stated'].get('direction') not in along | {None}):>14s}  "
                  + ', '.join(f'{m} ({c})' for m, c in mistakes.most_common(MISTAKES)), flush=True)
elif a.buckets:
    print(f"{'frames x h x w':>15s} {'trained':>7s} {'seen':>6s} {'held-out':>8s} {'change seen':>11s} {'change held':>11s}")
    for size in sizes:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # untrained sizes are marked in the table instead
            r = evaluate_pipeline(pipe, n=a.n, num_inference_steps=a.steps, guidance_scale=a.guidance, seed=a.seed, size=size)
        print(f"{'x'.join(map(str, size)):>15s} {'yes' if list(size) in pipe.config.buckets else 'no':>7s} "
              f"{r['seen']['all']:6.3f} {r['held-out']['all']:8.3f} {r['seen']['frame_change_ratio']:11.2f} "
              f"{r['held-out']['frame_change_ratio']:11.2f}", flush=True)
print(f'({time.time() - t:.0f} s)')
