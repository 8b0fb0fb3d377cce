"""Fine-tuning the shipped model on a new colour (purple): full fine-tuning vs LoRA (ranks 1, 4, 16) vs a transformer
trained from scratch on the same clips; new-concept fidelity, old-prompt fidelity (forgetting), steps, minutes, bytes;
and the clips-needed curve (LoRA, 8 to 512 clips). Writes the figures lesson 21 shows (vidlab/assets/finetune.json).
With --buckets, also the LoRA r=4 fine-tune's fidelity at every bucket (size) of the base model, which the fine-tune
only saw at its default size; --buckets-of ADAPTER measures that for an adapter already trained and adds it to --out.

    OMP_WAIT_POLICY=PASSIVE nice -n 5 python benchmarks/finetune.py --threads 1
    python benchmarks/finetune.py --quick        # a smoke run: tiny settings, seconds
"""
from __future__ import annotations
import argparse, json, platform, shlex, sys, tempfile
from dataclasses import asdict
from pathlib import Path
import torch
from vidlab.core import atomic_write
from vidlab.pipeline import default_model_dir, TextToVideo
from vidlab.finetuning import (FinetuneConfig, finetune, finetune_fidelity, write_concept_folder, lora_equivalence,
                               load_adapter, ADAPTER_FILE)

METHODS = {  # name -> FinetuneConfig settings
    'full': dict(rank=None), 'lora r=1': dict(rank=1), 'lora r=4': dict(rank=4), 'lora r=16': dict(rank=16),
    'from scratch': dict(rank=None, from_scratch=True)}

def bytes_of(out:Path, rank) -> int:
    "What a user keeps: the adapter file (LoRA) or the model's weights (full)."
    return (out / ADAPTER_FILE).stat().st_size if rank is not None else (out / 'model.safetensors').stat().st_size

def run(name:str, data:Path, work:Path, settings:dict, args) -> tuple[dict, TextToVideo]:
    cfg = FinetuneConfig(steps=args.steps, vae_steps=args.vae_steps, n_replay=args.n_replay, **settings)
    out = work / f'{name.replace(" ", "_").replace("=", "")}_{data.name}'
    m = finetune(data, out, cfg, seed=args.seed, progress=False)
    log = m.finetune_log
    fid = finetune_fidelity(m, n=args.n_eval, seed=args.seed, num_inference_steps=args.sample_steps)
    row = dict(method=name, clips=log['clips'], new=fid['new'], old=fid['old'], steps=log['steps'], vae_steps=log['vae_steps'],
               minutes=round(log['seconds'] / 60, 2), vae_minutes=round(log['vae_seconds'] / 60, 2),
               trained_params=log['trained_params'], bytes=bytes_of(out, cfg.rank), final_loss=round(log['final_loss'], 4))
    print(json.dumps(row), flush=True)
    return row, m

def bucket_rows(base:TextToVideo, tuned:TextToVideo, args) -> list[dict]:
    "Fidelity (new concept, old prompts) of the base and the fine-tuned model at every bucket of the base's config."
    rows = []
    for size in base.config.buckets:
        kw = dict(n=args.bucket_n, seed=args.seed, num_inference_steps=args.sample_steps, size=size)
        b, t = finetune_fidelity(base, kinds=['old'], **kw), finetune_fidelity(tuned, **kw)  # the base cannot say purple
        rows.append(dict(bucket=list(size), base_old=b['old'], new=t['new'], old=t['old'], n=args.bucket_n))
        print(json.dumps(rows[-1]), flush=True)
    return rows

def command(argv) -> str: return shlex.join(['python', 'benchmarks/finetune.py', *(argv if argv is not None else sys.argv[1:])])  # quoted: copy, paste, run

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', default='vidlab/assets/finetune.json', help='figures JSON to write')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--steps', type=int, default=400, help='transformer steps per run')
    p.add_argument('--vae-steps', type=int, default=100)
    p.add_argument('--n-replay', type=int, default=1024)
    p.add_argument('--n-eval', type=int, default=48, help='videos per fidelity figure (new and old)')
    p.add_argument('--sample-steps', type=int, default=None, help="sampler steps (default: the model's)")
    p.add_argument('--clips', type=int, default=128, help='clips in the folder of the table')
    p.add_argument('--curve', default='8,32,128,512', help='clip counts of the clips-needed curve (LoRA r=4)')
    p.add_argument('--methods', default=','.join(METHODS), help='rows of the table')
    p.add_argument('--buckets', action='store_true', help="also LoRA r=4's fidelity at every bucket of the base (trains it if not a row)")
    p.add_argument('--buckets-of', type=Path, default=None, help='only that, for this adapter (made from the shipped model): added to --out')
    p.add_argument('--bucket-n', type=int, default=24, help='videos per bucket figure (new and old)')
    p.add_argument('--quick', action='store_true', help='tiny settings: a smoke run in seconds')
    args = p.parse_args(argv)
    if args.quick: args.steps, args.vae_steps, args.n_replay, args.n_eval, args.sample_steps, args.clips, args.curve, args.bucket_n = 5, 2, 32, 4, 2, 8, '8', 2
    torch.set_num_threads(args.threads)
    if args.buckets_of is not None:  # an adapter already trained: measure it at every bucket, add the rows to --out
        base, tuned = (TextToVideo.from_pretrained(default_model_dir(), device='cpu') for _ in range(2))
        load_adapter(tuned, args.buckets_of)
        out = Path(args.out)
        res = json.loads(out.read_text()) if out.exists() else {}
        res.update(buckets=bucket_rows(base, tuned, args), buckets_command=command(argv))
        atomic_write(out, lambda f: f.write(json.dumps(res, indent=1).encode()))
        return res
    work = Path(tempfile.mkdtemp(prefix='vidlab-finetune-'))
    curve_n = [int(x) for x in args.curve.split(',') if x]
    folders = {n: write_concept_folder(work / f'clips{n}', n, seed=args.seed) for n in sorted({args.clips, *curve_n})}
    base = TextToVideo.from_pretrained(default_model_dir(), device='cpu')
    res = dict(command=command(argv),
               machine=f'{platform.processor() or platform.machine()}, {args.threads} torch thread(s), shared machine (under load)',
               settings=dict(steps=args.steps, vae_steps=args.vae_steps, n_replay=args.n_replay, n_eval=args.n_eval,
                             sample_steps=args.sample_steps, clips=args.clips, seed=args.seed, recipe=asdict(FinetuneConfig())),
               base_bytes=(default_model_dir() / 'model.safetensors').stat().st_size,
               base=finetune_fidelity(base, n=args.n_eval, seed=args.seed, num_inference_steps=args.sample_steps),
               peft=lora_equivalence(), table=[], curve=[])
    def save():
        if args.out: atomic_write(args.out, lambda f: f.write(json.dumps(res, indent=1).encode()))
    print('base', res['base'], flush=True)
    lora4 = None  # the LoRA r=4 model on args.clips clips, for --buckets
    for name in [m.strip() for m in args.methods.split(',') if m.strip()]:
        row, m = run(name, folders[args.clips], work, METHODS[name], args)
        res['table'].append(row); save()
        if name == 'lora r=4': lora4 = m
    for n in curve_n:
        row = next((r for r in res['table'] if r['method'] == 'lora r=4' and r['clips'] == n), None)
        res['curve'].append(row or run('lora r=4', folders[n], work, METHODS['lora r=4'], args)[0]); save()
    if args.buckets:
        if lora4 is None: lora4 = run('lora r=4', folders[args.clips], work, METHODS['lora r=4'], args)[1]
        res['buckets'] = bucket_rows(base, lora4, args)
    save()
    return res

if __name__ == '__main__': main()
