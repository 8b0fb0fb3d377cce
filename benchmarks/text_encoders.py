"""Text towers in the text slot, all else equal (lesson 19): our encoder vs transformers' CLIPTextModel (and T5EncoderModel),
each built from the same small sizes at random initialisation and frozen as in the recipe, each model trained by
`train_text_to_video` on the same preset, seed, steps and VAE, then judged by `evaluation.evaluate_pipeline`.

    python benchmarks/text_encoders.py [--kinds vidlab,clip,t5] [--preset default] [--steps N] [--n 200] [--threads 1]
                                       [--vae vidlab/assets/default | --vae train] [--json vidlab/assets/text_encoders.json]

Every arm starts from one VAE folder (default: the shipped model's, which the default preset trained with seed 0 as
its phase 1: the same weights and latent calibration as `vidlab/assets/single`'s; `--vae train` trains one per arm). Prints the table; writes the JSON (after each arm) that lesson 19 reads.
"""
import argparse, json
from pathlib import Path
import torch
from vidlab.core import atomic_write
from vidlab.ecosystem import compare_text_encoders, encoder_table

ROOT = Path(__file__).resolve().parents[1]

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--kinds', default='vidlab,clip,t5', help='comma-separated text towers: vidlab, clip, t5')
    p.add_argument('--preset', default='default', help='a name in vidlab.recipe.PRESETS')
    p.add_argument('--steps', type=int, default=None, help="transformer steps for every arm (default: the preset's)")
    p.add_argument('--n', type=int, default=200, help='evaluation videos per split')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--vae', default='vidlab/assets/default', help="VAE or model folder (relative to the repository), or 'train'")
    p.add_argument('--out', default=None, help='folder for the arms\' models (default: a temporary folder)')
    p.add_argument('--json', default=str(ROOT / 'vidlab' / 'assets' / 'text_encoders.json'))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    command = 'python benchmarks/text_encoders.py ' + ' '.join(f'--{k} {v}' for k, v in vars(a).items()
                                                               if v is not None and k not in ('json', 'out'))
    def save(res):
        res = dict(res, vae=a.vae, command=command)
        atomic_write(Path(a.json), lambda f: f.write(json.dumps(res, indent=1).encode()))
    def partial(arms):  # after each arm: keep what is measured so far
        save(dict(preset=a.preset, steps=arms[0]['steps'], seed=a.seed, n=a.n, threads=a.threads, arms=arms, partial=True))
    res = compare_text_encoders(tuple(a.kinds.split(',')), a.preset, a.steps, a.seed, a.n,
                                vae=None if a.vae == 'train' else ROOT / a.vae, out_dir=a.out, on_arm=partial)
    save(res)
    print(encoder_table(res))

if __name__ == '__main__': main()
