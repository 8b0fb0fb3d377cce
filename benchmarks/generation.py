"""Generation speed of the shipped model (issue 6 targets): one video, batched throughput, FLOPs and matmul-peak share,
and our sampling loop against the same model driven by diffusers' scheduler; batched also in bf16 autocast.

    python benchmarks/generation.py [--threads 2] [--steps 25] [--batch 64] [--repeats 5]
"""
import argparse, time, statistics
import vidlab  # before torch: its OpenMP wait setting (lesson 20) applies only if it comes first, as for a user
import torch
from vidlab.pipeline import TextToVideoPipeline
from vidlab.dit import count_flops
from vidlab.efficiency import matmul_peak_flops

p = argparse.ArgumentParser()
p.add_argument('--threads', type=int, default=2)
p.add_argument('--steps', type=int, default=None, help="sampler steps (default: the model's)")
p.add_argument('--batch', type=int, default=64)
p.add_argument('--repeats', type=int, default=5)
p.add_argument('--device', default=None)
p.add_argument('--model', default=None, help='model folder (default: the shipped model)')
a = p.parse_args()
torch.set_num_threads(a.threads)
pipe = TextToVideoPipeline.from_pretrained(a.model, device=a.device)
if a.steps is None: a.steps = pipe.config.num_inference_steps
prompt = 'a small red circle moving left'
g = pipe.config.guidance_scale


def timed(fn, repeats):
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return min(ts), statistics.median(ts)


best, med = timed(lambda: pipe(prompt, num_inference_steps=a.steps, seed=0), a.repeats)
size = 'x'.join(map(str, pipe.config.default_size))
print(f'one video ({size}, {a.steps} steps, guidance {g}, batch 1, {a.threads} threads): best {best*1e3:.1f} ms, median {med*1e3:.1f} ms')

prompts = [prompt] * a.batch
bbest, bmed = timed(lambda: pipe(prompts, num_inference_steps=a.steps, seed=0), max(2, a.repeats // 2))
print(f'batched ({a.batch} videos): best {a.batch / bbest:.1f} videos/s, median {a.batch / bmed:.1f} videos/s')
hbest, hmed = timed(lambda: pipe(prompts, num_inference_steps=a.steps, seed=0, autocast=torch.bfloat16), max(2, a.repeats // 2))
print(f'batched ({a.batch} videos), transformer under bf16 autocast: best {a.batch / hbest:.1f} videos/s, median {a.batch / hmed:.1f} videos/s')

flops = count_flops(lambda: pipe(prompts[:8], num_inference_steps=a.steps, seed=0)) / 8
peak32 = matmul_peak_flops(torch.float32)
print(f'model FLOPs per video: {flops / 1e9:.2f} GFLOP; measured fp32 matmul peak {peak32 / 1e9:.1f} GFLOP/s; '
      f'batched throughput is {flops * a.batch / bbest / peak32:.1%} of peak, batch 1 {flops / best / peak32:.1%}')

# our loop vs the same model driven by diffusers' scheduler in our loop
from vidlab.samplers import sample, diffusers_scheduler
model = pipe.model
ours = model.make_scheduler('ddim')
theirs = diffusers_scheduler(ours)
shape = model.latent_shape(1, *pipe.config.default_size)
fn = model.model_fn([prompt], g)
t_ours = timed(lambda: sample(fn, ours, shape, a.steps, g, seed=0), a.repeats)[0]
t_hf = timed(lambda: sample(fn, theirs, shape, a.steps, g, seed=0), a.repeats)[0]
print(f'sampling loop, ours ({type(ours).__name__}) vs diffusers {type(theirs).__name__} (same model): {t_ours*1e3:.1f} ms vs {t_hf*1e3:.1f} ms, ratio {t_ours/t_hf:.2f}')
