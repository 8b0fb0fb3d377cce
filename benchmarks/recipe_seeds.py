"""Is a training recipe robust? Train it from scratch at several seeds and judge every bucket of each model (issue 13,
lesson 14's "What ten minutes buy").

    python benchmarks/recipe_seeds.py --seeds 1 2 --out runs/seeds      # the `progressive` preset as it ships, two seeds
    python benchmarks/recipe_seeds.py --seeds 1 2 --set steps=7000 bucket_weights=4,1,1,3,1,2,6,6 --out runs/E
    python benchmarks/recipe_seeds.py --seeds 1 2 --base-set steps=2500 --set steps=8000 bucket_weights=4,1,1,3,1,2,8,8 --out runs/F
    python benchmarks/recipe_seeds.py --seeds 1 2 --transformer-set depth=3 --set steps=10000 bucket_weights=4,1,1,3,1,2,6,6 --out runs/D3
    python benchmarks/recipe_seeds.py --seeds 1 2 --transformer-set text_attention=joint --set steps=10000 bucket_weights=4,1,1,3,1,2,6,6 --out runs/J
    python benchmarks/recipe_seeds.py --seeds 1 2 --base-set vae_buckets=16x32x32,16x24x24,8x32x32 --out runs/V  # the VAE on 3 sizes
    python benchmarks/recipe_seeds.py --seeds 1 2 3 --model-set size_shift=true --out runs/S  # lesson 7's shift per size
    python benchmarks/recipe_seeds.py --seeds 1 2 3 --parallel --transformer-set positions=rotary --out runs/R  # lesson 9's RoPE, both phases
    python benchmarks/recipe_seeds.py --seeds 1 2 --set ... --out runs/E --guidance 2 3   # trained seeds are read back, judged again
    python benchmarks/recipe_seeds.py --seeds 1 2 3 --parallel --out runs/R --confirm 512  # shares under 90% judged on 512 videos

`--set` changes the preset's `TrainConfig` (phase 2 of a progressive preset), `--base-set` its base preset's (phase 1),
`--transformer-set` the transformer of both (its `DiTConfig` fields in the model config, e.g. depth=3), `--model-set`
the preset's own model config (its `TextToVideoConfig` fields, e.g. size_shift=true).
Each seed trains with `recipe.train_text_to_video` (what `vidlab train` runs) into OUT/seedS; a finished folder is read
back, an interrupted one resumed, one made with other settings refused. `--parallel` trains the seeds at once, one torch
thread each: then only quality counts, not the times (time a recipe alone with `vidlab train`). Prints each seed's
training time, then per bucket the seen / held-out share of videos with every attribute right, per seed and guidance
scale, the lowest and the mean share of each column, and the standard error of a share near the 90% target (lesson
14: on 128 videos a share of .89 is one video short and no evidence of a miss). `--confirm N` judges every share under
the target again on N videos per split (the first --n among them) and prints the lowest share with those in place.
Each model's shares are kept in OUT/seedS/judged.json (under a digest of its weights' checksums), so judging again
costs nothing.
"""
import argparse, dataclasses, hashlib, json, subprocess, sys, time, warnings
from pathlib import Path
import vidlab  # noqa: F401  (first: its thread settings apply only before torch loads)
import torch

TARGET = 0.9  # issue 13: the share of videos with every attribute right, at every bucket
LABEL = len('lowest, confirmed')  # width of the table's first column: its longest row label

p = argparse.ArgumentParser()
p.add_argument('--preset', default='progressive', help='a preset of vidlab.recipe.PRESETS')
p.add_argument('--seeds', type=int, nargs='+', default=[0])
p.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE', help="the preset's TrainConfig fields to change")
p.add_argument('--base-set', nargs='*', default=[], metavar='FIELD=VALUE', help="its base preset's TrainConfig fields")
p.add_argument('--transformer-set', nargs='*', default=[], metavar='FIELD=VALUE',
               help="the transformer's DiTConfig fields, in both phases' model configs")
p.add_argument('--model-set', nargs='*', default=[], metavar='FIELD=VALUE',
               help="the preset's model config fields (TextToVideoConfig, e.g. size_shift=true; phase 2 of a progressive preset)")
p.add_argument('--out', required=True, help='folder of the runs (OUT/seedS)')
p.add_argument('--n', type=int, default=128, help='videos per split and bucket')
p.add_argument('--guidance', type=float, nargs='*', default=None, help="guidance scales to judge at (default: the model's)")
p.add_argument('--confirm', type=int, default=0, metavar='N',
               help='judge every share under the target again on N videos per split (more than --n; 0: do not)')
p.add_argument('--parallel', action='store_true', help='train the seeds at once, one thread each (quality only)')
p.add_argument('--threads', type=int, default=2, help='torch threads (of each process with --parallel: 1)')
p.add_argument('--train-only', action='store_true', help=argparse.SUPPRESS)  # one seed's training, run by --parallel
a = p.parse_args()
if a.n < 1: sys.exit(f'--n: need at least 1 video per split, got {a.n}')
if a.confirm and a.confirm <= a.n: sys.exit(f'--confirm: {a.confirm} videos per split would add nothing to the {a.n} of --n: give more, or 0')

from vidlab.recipe import PRESETS, TrainConfig, train_text_to_video
from vidlab.evaluation import evaluate_pipeline
from vidlab.core import CHECKSUM_KEY
from safetensors import safe_open
from vidlab.pipeline import TextToVideoConfig, TextToVideoPipeline, _PART_FIELDS

def parse_sets(sets:list[str], what:str, cls=TrainConfig, derived:set=frozenset()) -> dict:
    "FIELD=VALUE strings to values of the `cls` field's type; a clear error for an unknown field or a bad value."
    types, out = {f.name: f.type for f in dataclasses.fields(cls) if f.name not in derived}, {}
    for s in sets:
        k, eq, v = s.partition('=')
        if not eq or k not in types: sys.exit(f'{what}: {s!r} is not FIELD=VALUE with a {cls.__name__} field ({", ".join(types)})')
        kind = str(types[k])
        try:
            if ('list' in kind or 'tuple' in kind) and 'x' in v: out[k] = [[int(n) for n in x.split('x')] for x in v.split(',')]  # FxHxW sizes
            elif 'list' in kind or 'tuple' in kind: out[k] = [float(x) if '.' in x else int(x) for x in v.split(',')]
            elif kind.startswith('int'): out[k] = int(v)
            elif kind.startswith('float'): out[k] = float(v)
            elif kind.startswith('bool'): out[k] = {'true': True, 'false': False}[v.lower()]
            else: out[k] = v
        except (ValueError, KeyError): sys.exit(f'{what}: {s!r}: {v!r} is not a {kind}')
    return out

if a.preset not in PRESETS: sys.exit(f'unknown preset {a.preset!r}: choose one of {", ".join(PRESETS)}')
config, recipe = PRESETS[a.preset]
changes, base_changes = parse_sets(a.set, '--set'), parse_sets(a.base_set, '--base-set')
dit_cls, derived = _PART_FIELDS['transformer']  # DiTConfig, and the fields TextToVideo derives (not settable)
dit_changes = parse_sets(a.transformer_set, '--transformer-set', dit_cls, derived)
try:
    dit_cls(**{**config.transformer, **dit_changes})  # the changed transformer must be a valid one
except (ValueError, TypeError) as e:
    sys.exit(f'--transformer-set: {e}')
model_changes = parse_sets(a.model_set, '--model-set', TextToVideoConfig, set(_PART_FIELDS))  # not the parts' dicts
try:
    config = dataclasses.replace(config, **model_changes)  # the changed config must be a valid one
except (ValueError, TypeError) as e:
    sys.exit(f'--model-set: {e}')
if base_changes and recipe.base is None: sys.exit(f'--base-set: preset {a.preset!r} has no base preset')
with_dit = lambda c: dataclasses.replace(c, transformer={**c.transformer, **dit_changes})  # a model config, its transformer changed
name = a.preset + (f"+{','.join(a.set)}" if a.set else '')  # run.json records it: a folder of other settings is refused
suffix = ([','.join(a.base_set)] if base_changes else []) + ([f"transformer:{','.join(a.transformer_set)}"] if dit_changes else [])
if recipe.base and suffix:  # the base preset, changed: registered under its own name
    base_name = '+'.join([recipe.base] + suffix)
    try:
        PRESETS[base_name] = (with_dit(PRESETS[recipe.base][0]), dataclasses.replace(PRESETS[recipe.base][1], **base_changes))
    except ValueError as e:
        sys.exit(f'--base-set: {e}')
    changes['base'] = base_name
if base_changes: name += f"+base:{','.join(a.base_set)}"
if dit_changes: name, config = name + f"+transformer:{','.join(a.transformer_set)}", with_dit(config)
if model_changes: name += f"+model:{','.join(a.model_set)}"
try:
    PRESETS[name] = (config, dataclasses.replace(recipe, **changes))
except ValueError as e:
    sys.exit(f'--set: {e}')
out = Path(a.out)

def train(seed:int) -> float:
    "Train one seed (read back when finished); its log's seconds."
    folder = out / f'seed{seed}'
    run = json.loads((folder / 'run.json').read_text()) if (folder / 'run.json').exists() else None
    if run is not None and run != dict(preset=name, seed=seed):
        sys.exit(f'{folder} holds a run of {run}, not of {dict(preset=name, seed=seed)}: choose another --out')
    if not (folder / 'train_log.json').exists():
        torch.set_num_threads(a.threads)
        train_text_to_video(name, folder, seed=seed, progress=False)
    return json.loads((folder / 'train_log.json').read_text())['seconds']

if a.train_only:
    train(a.seeds[0])
    sys.exit(0)
todo = [s for s in a.seeds if not (out / f'seed{s}' / 'train_log.json').exists()]
if a.parallel and len(todo) > 1:
    argv = [sys.executable, __file__, '--train-only', '--threads', '1', '--preset', a.preset, '--out', a.out,
            '--set', *a.set, '--base-set', *a.base_set, '--transformer-set', *a.transformer_set, '--model-set', *a.model_set]
    procs = [subprocess.Popen(argv + ['--seeds', str(s)]) for s in todo]
    if any(proc.wait() for proc in procs): sys.exit('a seed failed to train (its error is above)')
seconds = {s: train(s) for s in a.seeds}
print(f'recipe: {name}; ' + '; '.join(f'seed {s}: {v:.0f} s' for s, v in seconds.items())
      + (' (trained side by side, one thread each: quality only)' if a.parallel and len(todo) > 1 else ''), flush=True)

torch.set_num_threads(a.threads)
t = time.time()
pipes = {s: TextToVideoPipeline.from_pretrained(out / f'seed{s}') for s in a.seeds}

def weights_id(folder:Path) -> str:
    "A model folder's identity: a digest of the tensor checksums its model.safetensors already carries (`save_safetensors`)."
    with safe_open(folder / 'model.safetensors', 'pt') as f:
        return hashlib.sha256(f.metadata()[CHECKSUM_KEY].encode()).hexdigest()

kept = {}  # seed -> its judged.json: the shares already judged for these weights
for s in a.seeds:
    path, weights = out / f'seed{s}' / 'judged.json', weights_id(out / f'seed{s}')
    kept[s] = json.loads(path.read_text()) if path.exists() else {}
    if kept[s].get('weights') != weights: kept[s] = dict(weights=weights, shares={})  # another model: nothing kept applies

def judge(s:int, g:float|None, size:list, n:int) -> list:
    "[seen, held-out] share of seed s's model at one size, judged once and kept in OUT/seedS/judged.json."
    key = f"{'x'.join(map(str, size))} n={n} guidance={g} threads={a.threads}"
    if key not in kept[s]['shares']:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            r = evaluate_pipeline(pipes[s], n=n, guidance_scale=g, size=size)
        kept[s]['shares'][key] = [r['seen']['all'], r['held-out']['all']]
        (out / f'seed{s}' / 'judged.json').write_text(json.dumps(kept[s], indent=1))  # at once: an interrupted run keeps it
    return kept[s]['shares'][key]

scales = a.guidance or [None]
cols = [(s, g) for s in a.seeds for g in scales]
shares = {c: [] for c in cols}
print(f"{a.n} videos per split and bucket; seen / held-out\n{'frames x h x w':>{LABEL}s} "
      + ' '.join(f"{f'seed {s}' + (f', g {g:g}' if g is not None else ''):>14s}" for s, g in cols))
for size in config.buckets:
    row = []
    for s, g in cols:
        seen, held = judge(s, g, size, a.n)
        shares[(s, g)] += [seen, held]
        row.append(f"{seen:.3f} / {held:.3f}")
    print(f"{'x'.join(map(str, size)):>{LABEL}s} " + ' '.join(f'{v:>14s}' for v in row), flush=True)
print(f"{'lowest':>{LABEL}s} " + ' '.join(f'{min(shares[c]):>14.3f}' for c in cols))
print(f"{'mean':>{LABEL}s} " + ' '.join(f'{sum(shares[c]) / len(shares[c]):>14.3f}' for c in cols))  # lesson 14 compares recipes by both
se = lambda n: (TARGET * (1 - TARGET) / n) ** 0.5  # binomial: a share's standard error near the target
print(f'(one standard error of a share near {TARGET:.0%} on {a.n} videos: {se(a.n):.3f}; judge the shares near the target '
      f'again on more videos: --confirm {4 * a.n})')
if a.confirm:
    print(f'shares under {TARGET:.0%}, judged again on {a.confirm} videos per split (the first {a.n} among them; one standard '
          f'error {se(a.confirm):.3f}):')
    confirmed = {c: list(v) for c, v in shares.items()}
    for s, g in cols:
        for i, size in enumerate(config.buckets):
            low = [j for j in (0, 1) if shares[(s, g)][2 * i + j] < TARGET]
            if low: again = judge(s, g, size, a.confirm)
            for j in low:
                confirmed[(s, g)][2 * i + j] = again[j]
                print(f"  seed {s}{f', g {g:g}' if g is not None else ''}, {'x'.join(map(str, size))} "
                      f"{('seen', 'held-out')[j]}: {shares[(s, g)][2 * i + j]:.3f} on {a.n} -> {again[j]:.3f} on {a.confirm}", flush=True)
    print(f"{'lowest, confirmed':>{LABEL}s} " + ' '.join(f'{min(confirmed[c]):>14.3f}' for c in cols))
print(f'({time.time() - t:.0f} s judging)')
