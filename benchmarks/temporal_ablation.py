"""Temporal ablation (lesson 15) and video-task success rates (lesson 16): the one source of the figures they quote.

Per-frame image generation against joint video diffusion, same training budget.

Trains three denoisers from scratch with the shipped model's text encoder, VAE, scheduler and denoiser size, each for
the same number of steps on the same data (an image model run frame by frame, a factorized video DiT, a full-3D video
DiT), samples all of them on the same prompts and seed with the model's default sampler steps (the image model with
independent and with shared noise per frame), and prints one table: prompt fidelity, flicker, identity, smoothness,
warping error, sampling and training wall time. With --capabilities it measures instead the success of every
joint-modelling capability of the shipped model (image to video, extension, interpolation, SDEdit recolouring,
storyboard, loop); --model measures another saved model, --num-inference-steps other sampler steps. Both print their
wall time last; the lessons quote the tables and times this script printed (they name the command).

    python benchmarks/temporal_ablation.py --threads 1           # the full ablation on the shipped model (12 steps)
    python benchmarks/temporal_ablation.py --threads 1 --model vidlab/assets/single   # as lesson 15 quotes it: the
        # same frozen VAE, calibration and text encoder as the shipped model, so the same training; sampled in 25 steps
    python benchmarks/temporal_ablation.py --steps 300 --prompts 48
    python benchmarks/temporal_ablation.py --capabilities --cases 32   # lesson 16's success rates
    python benchmarks/temporal_ablation.py --capabilities --cases 32 --num-inference-steps 25   # and with more steps
    python benchmarks/temporal_ablation.py --capabilities --cases 32 --model vidlab/assets/single   # the single-size model
"""
import argparse, json, time
from pathlib import Path
import torch


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=None, help='training steps per arm, the shared budget (default: AblationConfig().steps)')
    ap.add_argument('--prompts', type=int, default=96, help='evaluation prompts, spread over all 192 combinations')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--capabilities', action='store_true', help='measure the capabilities of the shipped model instead')
    ap.add_argument('--cases', type=int, default=32, help='cases per capability (with --capabilities)')
    ap.add_argument('--model', default=None, help='a saved pipeline folder (default: the shipped model)')
    ap.add_argument('--num-inference-steps', type=int, default=None, help="sampler steps (default: the model's config)")
    ap.add_argument('--threads', type=int, default=1, help='torch threads (1 is fastest on a shared 2-core machine)')
    ap.add_argument('--out', default=None, help='folder for results.json and the figure (default: print only)')
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from vidlab.pipeline import TextToVideoPipeline
    from vidlab.data import combinations, caption
    from vidlab.temporal import AblationConfig, run_ablation, format_table, plot_ablation
    from vidlab.video_tasks import capability_report
    pipe = TextToVideoPipeline.from_pretrained(args.model) if args.model else TextToVideoPipeline.from_pretrained()
    out = Path(args.out) if args.out else None
    if out: out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    if args.capabilities:
        steps = args.num_inference_steps or pipe.config.num_inference_steps
        report = capability_report(pipe, n=args.cases, seed=args.seed, num_inference_steps=steps)
        print(f'capabilities of {args.model or "the shipped model"}, {args.cases} cases each, {steps} sampler steps, seed {args.seed}:')
        print(format_table(report, ['success'] + sorted({k for r in report.values() for k in r} - {'success'})))
        result = dict(capabilities=report)
    else:
        combos = combinations('all')
        step = max(1, len(combos) // args.prompts)
        prompts = [caption(c) for c in combos[::step]][:args.prompts]
        cfg = AblationConfig(**({} if args.steps is None else dict(steps=args.steps)))
        steps = args.num_inference_steps or pipe.config.num_inference_steps
        rows, clips = run_ablation(pipe, prompts, cfg, seed=args.seed, num_inference_steps=steps)
        print(f'temporal ablation: {cfg.steps} training steps per arm, {len(prompts)} prompts, {steps} sampler steps, seed {args.seed}')
        print(format_table(rows))
        result = dict(config=vars(cfg), prompts=len(prompts), rows=rows)
        if out: plot_ablation(rows, clips).savefig(out / 'temporal_ablation.png', dpi=120)
    print(f'wall time {time.perf_counter() - start:.0f} s')
    if out: (out / 'results.json').write_text(json.dumps(dict(args=vars(args), **result), indent=1))


if __name__ == '__main__':
    main()
