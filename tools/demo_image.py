#!/usr/bin/env python3
"""Render the README's picture of the denoising demo from the shipped model (dev-only):

    python tools/demo_image.py   # writes nbs/images/denoising_demo.png

Rows: steps of the sampler; in each row the noisy latent decoded (left) and the predicted clean video (right).
"""
from pathlib import Path
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
from vidlab.pipeline import TextToVideoPipeline
from vidlab.demo import DenoisingDemo
from vidlab.samplers import trajectory_grid

prompt = 'a small red circle moving left'
demo = DenoisingDemo(TextToVideoPipeline.from_pretrained(device='cpu'), prompt=prompt, seed=0)
grid = trajectory_grid(demo.explorer.trajectory, rows=6)
fig, ax = plt.subplots(figsize=(14, 4.2))
ax.imshow(grid, interpolation='nearest'); ax.set_axis_off()
ax.set_title(f'"{prompt}": rows = {demo.explorer.steps.value} sampler steps (rectified flow, Euler); left half = noisy latent decoded, right half = predicted clean video', fontsize=9)
out = Path(__file__).resolve().parent.parent / 'nbs' / 'images' / 'denoising_demo.png'
fig.savefig(out, dpi=110, bbox_inches='tight')
print(f'wrote {out}')
