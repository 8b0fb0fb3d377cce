"""Prompt fidelity of the shipped model judged by the evaluator (issue 6 targets), seen vs held-out combinations,
and the generated videos' mean frame-to-frame change against real clips.

    python benchmarks/fidelity.py [--n 240] [--steps 25] [--seed 0] [--model DIR]
"""
import argparse, time
import numpy as np, torch
from vidlab.pipeline import TextToVideoPipeline, evaluate_pipeline

p = argparse.ArgumentParser()
p.add_argument('--n', type=int, default=240, help='videos per split')
p.add_argument('--steps', type=int, default=25)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--model', default=None)
p.add_argument('--threads', type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
pipe = TextToVideoPipeline.from_pretrained(a.model)
t = time.time()
report = evaluate_pipeline(pipe, n=a.n, num_inference_steps=a.steps, seed=a.seed)
for split, r in report.items():
    print(f'{split:8s} ' + '  '.join(f'{k} {v:.3f}' if isinstance(v, float) else f'{k} {v}' for k, v in r.items()))
print(f'({time.time() - t:.0f} s)')
