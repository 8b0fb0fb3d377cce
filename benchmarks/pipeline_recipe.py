#!/usr/bin/env python3
"""Recipe arms for the shipped text-to-video model: train a new transformer over a model folder's frozen VAE and text
encoder with the pipeline's own training functions, then judge it with `evaluate_pipeline` (seen and held-out
combinations, frame-to-frame change against real clips). The second table of lesson 11 came from these runs.

    python benchmarks/pipeline_recipe.py --model runs/default --objective flow --steps 3500      # the shipped recipe
    python benchmarks/pipeline_recipe.py --model runs/default --objective v_prediction --steps 2000
    python benchmarks/pipeline_recipe.py --model runs/default --dim 96 --mlp-ratio 2 --heads 4 --steps 2000

`--model` is a folder written by `vidlab train` (its VAE and text encoder are reused; default: the shipped model).

    python benchmarks/pipeline_recipe.py --bucket-cost [--preset bucketed]   # one training step per bucket, vs the first

prints the cost of a transformer training step (forward and backward) at each bucket of a preset, with the batch size
the bucket sampler gives it, relative to the first (default) bucket: interleaved, best of 5, so the ratios hold on a
loaded machine.
"""
import argparse, json, time
from dataclasses import replace
import numpy as np, torch
from vidlab.evaluation import evaluate_pipeline
from vidlab.pipeline import TextToVideo, TextToVideoConfig, TextToVideoPipeline, default_model_dir
from vidlab.recipe import latent_cache, latent_batches, denoising_loss, PRESETS, BucketSampler
from vidlab.training import Learner, LRSchedule, GradClip, EMA, NaNGuard, CondDropout

SCHEDULES = {'flow': TextToVideoConfig().scheduler,  # the noise schedule of each objective (flow: the shipped one)
             'v_prediction': dict(beta_schedule='squaredcos_cap_v2', prediction_type='v_prediction', clip_sample=False,
                                  timestep_spacing='trailing')}

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument('--model', default=None, help='model folder whose VAE and text encoder are reused')
p.add_argument('--objective', choices=list(SCHEDULES), default='flow')
p.add_argument('--dim', type=int, default=64); p.add_argument('--depth', type=int, default=4)
p.add_argument('--heads', type=int, default=2); p.add_argument('--mlp-ratio', type=float, default=4.0)
p.add_argument('--attention', choices=['full', 'factorized'], default='full')
p.add_argument('--steps', type=int, default=3500); p.add_argument('--batch-size', type=int, default=32)
p.add_argument('--lr', type=float, default=2e-3); p.add_argument('--guidance', type=float, default=4.0)
p.add_argument('--n', type=int, default=200, help='videos per split'); p.add_argument('--threads', type=int, default=2)
p.add_argument('--seed', type=int, default=0); p.add_argument('--out', help='save the trained model here')
p.add_argument('--bucket-cost', action='store_true', help='print the relative cost of a training step per bucket and exit')
p.add_argument('--preset', default='bucketed', help='the preset whose buckets --bucket-cost measures')
a = p.parse_args()
torch.set_num_threads(a.threads)


def bucket_cost(preset):
    cfg, recipe = PRESETS[preset]
    m = TextToVideo(cfg, seed=0)
    m.vae.requires_grad_(False); m.text_encoder.requires_grad_(False)
    s = BucketSampler(cfg.buckets, recipe.batch_size, recipe.bucket_weights)
    tb = m.tokenize(['a small red circle moving left'])
    def step(b, n):
        x0 = torch.randn(m.latent_shape(n, *b))
        t = m.noise_schedule.sample_timesteps(n, generator=torch.Generator().manual_seed(0))
        batch = dict(x0=x0, noise=torch.randn_like(x0), t=t, input_ids=tb.input_ids.expand(n, -1),
                     attention_mask=tb.attention_mask.expand(n, -1))
        denoising_loss(m, batch).backward()
    best = [float('inf')] * len(s.buckets)
    for _ in range(5):
        for i, (b, n) in enumerate(zip(s.buckets, s.batch_sizes)):
            t0 = time.perf_counter(); step(b, n); best[i] = min(best[i], time.perf_counter() - t0)
    share = s.weights.tolist()
    print(f'preset {preset!r}: {len(s.buckets)} buckets, {a.threads} threads')
    for b, n, t, w in zip(s.buckets, s.batch_sizes, best, share):
        print(f"{'x'.join(map(str, b)):>9s}  batch {n:3d}  share {w:.2f}  step {t / best[0]:.2f}x the first bucket's")
    print(f'mean step over the bucket shares: {sum(t / best[0] * w for t, w in zip(best, share)):.2f}x the first bucket\'s')


if a.bucket_cost: bucket_cost(a.preset); raise SystemExit
base = TextToVideo.from_pretrained(a.model or default_model_dir(), device='cpu')
cfg = replace(base.config, objective=a.objective, scheduler=SCHEDULES[a.objective], guidance_scale=a.guidance,
              transformer=dict(dim=a.dim, depth=a.depth, heads=a.heads, mlp_ratio=a.mlp_ratio, attention=a.attention))
model = TextToVideo(cfg, base.tokenizer, seed=a.seed)
model.vae, model.text_encoder = base.vae, base.text_encoder  # frozen, as in `train_text_to_video`
model.vae.requires_grad_(False).eval(); model.text_encoder.requires_grad_(False)
cache = latent_cache(model, 4096, seed=a.seed)
empty = model.tokenize([''])
ema = EMA(0.999)
learn = Learner(model, denoising_loss, latent_batches(cache, model.noise_schedule, a.batch_size),
                opt=torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=a.lr, weight_decay=0.0),
                cbs=[LRSchedule(warmup=100), GradClip(1.0), ema, NaNGuard(),
                     CondDropout(dict(input_ids=empty.input_ids[0], attention_mask=empty.attention_mask[0]), p=0.1)],
                seed=a.seed)
t0 = time.perf_counter(); learn.fit(a.steps); train_s = time.perf_counter() - t0
ema.copy_to(model); model.eval()
report = evaluate_pipeline(TextToVideoPipeline(model, device='cpu'), n=a.n)
print(json.dumps(dict(args=vars(a), train_s=round(train_s), s_per_step=round(train_s / a.steps, 3),
                      final_loss=round(float(np.mean([h['loss'] for h in learn.history[-50:]])), 4),
                      **{k: {m: round(v, 3) if isinstance(v, float) else v for m, v in r.items()} for k, r in report.items()})))
if a.out: model.save_pretrained(a.out)
