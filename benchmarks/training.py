"""Training throughput (not a timed test): this machine's matmul peak (fp32, bf16), and the default text-to-video
recipe's training step as a share of it, in fp32 and under bf16 autocast, with the loss each reaches from the same
start (is bf16 as accurate?).

    python benchmarks/training.py [--threads 1] [--steps 40] [--fit 150]

Prints one JSON line per measurement.
"""
import argparse, json, time
import numpy as np
import torch
from vidlab.training import Learner, matmul_peak_flops, step_flops
from vidlab.pipeline import TextToVideo, TextToVideoConfig, PRESETS, latent_cache, latent_batches, denoising_loss


def learner(cache, mixed_precision):
    "The default recipe's learner (frozen VAE and text encoder, as the preset) from a fixed initialisation."
    config, recipe = PRESETS['default']
    model = TextToVideo(config, seed=0)
    model.vae.requires_grad_(False)
    if not recipe.train_text_encoder: model.text_encoder.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    return Learner(model, denoising_loss, latent_batches(cache, model.make_scheduler('ddpm'), recipe.batch_size),
                   opt=torch.optim.AdamW(params, lr=recipe.lr, weight_decay=0.0), seed=0, mixed_precision=mixed_precision)


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
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    main(a)
