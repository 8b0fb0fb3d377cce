"""Issue 15: every efficiency claim measured on the shipped model, one row each, into vidlab/assets/efficiency.json.

    python benchmarks/efficiency.py                                   # every part (about 16 minutes on 1 thread, under load)
    python benchmarks/efficiency.py --parts caching steps --n 100     # some parts; the others' rows are kept
    python benchmarks/efficiency.py --table                           # print the table of the results file only

Fidelity is `evaluation.evaluate_pipeline` (--n videos per split, seen and held-out prompts); speed is the median seconds of
one video (one prompt, the model's own step count and guidance: 12 steps for the shipped model), each part's pipelines
timed round-robin with the baseline in the same run, so the speed-ups are ratios under the same load. `benchmarks/busy.py` adds the busy-machine row.
"""
import argparse, json, os, subprocess, sys, time, warnings
from pathlib import Path
import numpy as np
import torch

PARTS = ['baseline', 'quantization', 'pruning', 'caching', 'steps', 'batch', 'parallel', 'resolution', 'encoding', 'training']
p = argparse.ArgumentParser()
p.add_argument('--parts', nargs='*', default=PARTS, choices=PARTS)
p.add_argument('--n', type=int, default=100, help='videos per split for fidelity')
p.add_argument('--repeats', type=int, default=5, help='timed videos per pipeline')
p.add_argument('--threads', type=int, default=1)
p.add_argument('--thresholds', type=float, nargs='*', default=[0.1, 0.2, 0.3, 0.5])
p.add_argument('--steps', type=int, nargs='*', default=None,
               help="DDIM step counts (default: 1/3, 1/2 and 2/3 of the model's own count, the baseline, and 25 as 'more steps'; "
                    "the baseline itself is timed alongside)")
p.add_argument('--ddpm-steps', type=int, nargs='*', default=None, help="DDPM step counts (default: the model's own count and 25)")
p.add_argument('--finetune-steps', type=int, default=300)
p.add_argument('--out', default=str(Path(__file__).resolve().parent.parent / 'vidlab' / 'assets' / 'efficiency.json'))
p.add_argument('--table', action='store_true', help='only print the table of --out')
p.add_argument('--worker', nargs=3, metavar=('N', 'BATCH', 'START'), help=argparse.SUPPRESS)  # one process of 'parallel'
a = p.parse_args()

import vidlab  # before torch's thread pool starts: the wait policy (see vidlab/__init__.py)
from vidlab.evaluation import evaluate_pipeline
from vidlab.pipeline import TextToVideoPipeline
from vidlab import efficiency as E

torch.set_num_threads(a.threads)
PROMPT = 'a small red circle moving left'

if a.worker:  # a process of the parallel part: load, wait for the common start, generate, print the end time
    n, batch, start = int(a.worker[0]), int(a.worker[1]), float(a.worker[2])
    pipe = TextToVideoPipeline.from_pretrained(device='cpu')
    pipe([PROMPT], seed=0)
    time.sleep(max(0.0, start - time.time()))
    for i in range(0, n, batch): pipe([PROMPT] * min(batch, n - i), seed=i)
    print(json.dumps(dict(end=time.time())))
    sys.exit(0)

out = Path(a.out)
if a.table:
    res = json.loads(out.read_text())
    print(E.results_table(res['rows'])); print(res.get('command'), '|', res.get('note'))
    sys.exit(0)

command = 'python benchmarks/efficiency.py ' + ' '.join(sys.argv[1:])
pipe = TextToVideoPipeline.from_pretrained(device='cpu')
fp32_bytes = E.model_bytes(pipe.model)
base_fid = None
STEPS, GUIDANCE = pipe.config.num_inference_steps, pipe.config.guidance_scale  # the baseline: the model's own sampling defaults
if a.steps is None: a.steps = sorted(({max(2, round(STEPS * f)) for f in (1 / 3, 1 / 2, 2 / 3)} | {25}) - {STEPS})  # 12: 4, 6, 8, 25
if a.ddpm_steps is None: a.ddpm_steps = sorted({STEPS, 25})  # the stochastic sampler at the baseline's count and at more

def fidelity(p, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        r = evaluate_pipeline(p, n=a.n, **kw)
    return dict(seen=100 * r['seen']['all'], heldout=100 * r['held-out']['all'], frame_change=r['seen']['frame_change_ratio'])

def baseline_fidelity():
    global base_fid
    if base_fid is None:
        old = json.loads(out.read_text()) if out.exists() else dict(rows=[])
        rows = [r for r in old['rows'] if r['part'] == 'baseline' and r.get('n') == a.n]
        base_fid = {k: rows[0][k] for k in ('seen', 'heldout', 'frame_change')} if rows and 'baseline' not in a.parts else fidelity(pipe)
    return base_fid

def row(part, claim, setting, fid, seconds=None, base_seconds=None, bytes=None, gain=None, need=1.1, note=''):
    base = baseline_fidelity()
    lost = max(base['seen'] - fid['seen'], base['heldout'] - fid['heldout']) if fid.get('seen') is not None else 0.0
    speedup = base_seconds / seconds if seconds else None
    gain = speedup if gain is None else gain
    r = dict(part=part, claim=claim, setting=setting, seconds=seconds, speedup=speedup, bytes=bytes, **fid, n=a.n, gain=gain,
             need=need, lost=lost, verdict=E.verdict(gain, lost, need), note=note, command=command)
    print(f"{part:12s} {setting:45s} gain {gain:5.2f} (need {need:.2f}) lost {lost:5.1f} -> {r['verdict']}  {note}", flush=True)
    return r

def timed(pipes, **kw):
    return E.video_seconds(pipes, repeats=a.repeats, **kw)

t_start, rows, curves = time.time(), [], {}

def flush():
    "Write what has been measured so far (rows replace their part's earlier rows), so a failure later loses nothing."
    if rows or curves: E.update_results(out, rows, curves)

utc = lambda: time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
load = dict(utc_start=utc(), loadavg_start=[round(x, 2) for x in os.getloadavg()])

if 'baseline' in a.parts:
    s = timed(dict(base=pipe))['base']
    rows.append(row('baseline', 'the shipped model', f'float32, {STEPS} DDIM steps, guidance {GUIDANCE:g}', baseline_fidelity(), s, s, fp32_bytes, gain=1.0, need=1.0))

flush()
if 'quantization' in a.parts:
    q8, q8p, bf, = E.quantize(pipe), E.quantize(pipe, kernel='int8pack'), E.quantize(pipe, 'bf16')
    ac = E.TunedPipeline(pipe, autocast=torch.bfloat16)
    s = timed(dict(base=pipe, q8=q8, q8p=q8p, bf=bf, ac=ac))
    q8_fid = fidelity(q8)
    for key, p, setting in [('q8', q8, 'int8 weights, every Linear/Conv (dequantize)'), ('q8p', q8p, 'int8 weights, torch int8pack matmul'),
                            ('bf', bf, 'bf16 weights')]:
        b = E.model_bytes(p.model)
        fid = q8_fid if key != 'bf' else fidelity(p)  # int8pack computes the same products as dequantize (to 1e-6): same videos
        rows.append(row('quantization', 'quantization', setting, fid, s[key], s['base'], b, gain=fp32_bytes / b,
                        need=1 / 0.3 if key != 'bf' else 1.9, note=f'{b / fp32_bytes:.0%} of fp32 bytes; {s["base"] / s[key]:.2f}x speed'))
    rows.append(row('quantization', 'quantization', 'bf16 compute (autocast, fp32 weights)', fidelity(ac), s['ac'], s['base'], fp32_bytes))

flush()
if 'pruning' in a.parts:
    sparse = E.prune(pipe, sparsity=0.5)
    slim0 = E.prune(pipe, heads=2, hidden=128)
    t0 = time.time(); slim = E.prune(pipe, heads=2, hidden=128, finetune_steps=a.finetune_steps); ft = time.time() - t0
    s = timed(dict(base=pipe, sparse=sparse, slim=slim))
    tb = E.model_bytes(pipe.model.transformer)
    rows.append(row('pruning', 'pruning', 'unstructured, 50% of transformer weights zeroed', fidelity(sparse), s['sparse'], s['base'],
                    E.model_bytes(sparse.model), note='dense kernels: zeros cost as much as any number'))
    rows.append(row('pruning', 'pruning', 'structured: 2 of 4 heads, 128 of 256 MLP channels, no fine-tune', fidelity(slim0), s['slim'],
                    s['base'], E.model_bytes(slim0.model), note=f'transformer {E.model_bytes(slim0.model.transformer) / tb:.0%} of its bytes'))
    rows.append(row('pruning', 'pruning', f'structured, + {a.finetune_steps}-step fine-tune', fidelity(slim), s['slim'], s['base'],
                    E.model_bytes(slim.model), note=f'fine-tune {ft:.0f} s (1 thread, under load)'))

flush()
if 'caching' in a.parts:
    n_calls = E.text_encoder_calls(pipe)
    model = pipe.model
    fn_time = E.video_seconds(dict(text=lambda prompt, seed: model.model_fn([prompt], 3.0)), repeats=a.repeats)['text']
    s = timed(dict(base=pipe))['base']
    steps = pipe.config.num_inference_steps
    naive = s + (steps - 1) * fn_time
    rows.append(row('caching', 'smart caching: the prompt', f'text encoded once per video ({n_calls} call), not per step',
                    baseline_fidelity(), s, naive, fp32_bytes,
                    note=f'built into the pipeline (lesson 12); per-step encoding would add {naive / s - 1:.0%}'))
    cps = {th: E.cached(pipe, th) for th in a.thresholds}
    s = timed(dict(base=pipe, **{str(th): c for th, c in cps.items()}))
    curve = []
    for th, c in cps.items():
        fid = fidelity(c)
        c(PROMPT, seed=0)
        curve.append(dict(threshold=th, relative_time=s[str(th)] / s['base'], **fid, reused=c.stats['reused'], full=c.stats['full']))
        print(curve[-1], flush=True)
    curves['cache'] = curve
    base = baseline_fidelity()
    ok = [c for c in curve if max(base['seen'] - c['seen'], base['heldout'] - c['heldout']) <= 2] or curve[:1]
    best = min(ok, key=lambda c: c['relative_time'])
    rows.append(row('caching', 'smart caching: the steps', f"step cache (FirstBlockCache), threshold {best['threshold']:g}",
                    best, s[str(best['threshold'])], s['base'], fp32_bytes, need=1.5,
                    note=f"{best['reused']} of {best['reused'] + best['full']} steps reuse the cache"))

flush()
if 'steps' in a.parts:
    curves['steps'], s = {}, {}
    for sampler in ('ddim', 'ddpm'):
        tp = {k: E.TunedPipeline(pipe, sampler=sampler, num_inference_steps=k) for k in (a.steps if sampler == 'ddim' else a.ddpm_steps)}
        s[sampler] = timed(dict(base=pipe, **{str(k): v for k, v in tp.items()}))
        curves['steps'][sampler] = [dict(steps=k, relative_time=s[sampler][str(k)] / s[sampler]['base'], **fidelity(v)) for k, v in tp.items()]
        print(sampler, curves['steps'][sampler], flush=True)
    base = baseline_fidelity()
    fewer = [(c, sm) for sm, cs in curves['steps'].items() for c in cs if c['steps'] < STEPS]  # 'more steps' points are the curve's only
    ok = [(c, sm) for c, sm in fewer if max(base['seen'] - c['seen'], base['heldout'] - c['heldout']) <= 2]
    c, sm = min(ok, key=lambda cs: cs[0]['steps']) if ok else max(fewer, key=lambda cs: cs[0]['steps'])
    rows.append(row('steps', 'fewer steps', f"{c['steps']} {sm.upper()} steps (instead of {STEPS} DDIM)", c, s[sm][str(c['steps'])], s[sm]['base'],
                    fp32_bytes))

flush()
if 'batch' in a.parts:
    thr = {}
    for b in (1, 4, 16, 64):
        t = E.video_seconds(dict(p=lambda prompt, seed: pipe([prompt] * b, seed=seed)), repeats=max(2, a.repeats // 2))['p']
        thr[b] = b / t
    curves['batch'] = dict(videos_per_second={str(k): v for k, v in thr.items()}, threads=a.threads)
    rows.append(row('batch', 'batch processing', f'16 prompts per call vs 1 ({a.threads} thread)', baseline_fidelity(), 1 / thr[16], 1 / thr[1],
                    fp32_bytes, note='throughput (videos/s): ' + ', '.join(f'batch {k}: {v:.1f}' for k, v in thr.items())))

flush()
if 'parallel' in a.parts:
    n, b = 32, 16
    t1 = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        t1[threads] = E.video_seconds(dict(p=lambda prompt, seed: pipe([prompt] * n, seed=seed)), repeats=2)['p']
    torch.set_num_threads(a.threads)
    start = time.time() + 15
    procs = [subprocess.Popen([sys.executable, __file__, '--threads', '1', '--worker', str(n // 2), str(b), str(start)],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    ends = [json.loads(pr.communicate()[0].strip().splitlines()[-1])['end'] for pr in procs]
    t_proc = max(ends) - start
    curves['parallel'] = dict(videos=n, seconds_1_thread=t1[1], seconds_2_threads=t1[2], seconds_2_processes=t_proc)
    rows.append(row('parallel', 'parallel processing', f'2 threads vs 1 ({n} videos, batch {n})', baseline_fidelity(), t1[2] / n, t1[1] / n, fp32_bytes))
    rows.append(row('parallel', 'parallel processing', f'2 processes x 1 thread vs 1 process ({n} videos)', baseline_fidelity(), t_proc / n, t1[1] / n,
                    fp32_bytes, note='2 cores, shared with other users: no spare core to gain from'))

flush()
if 'resolution' in a.parts:
    f0, h0, w0 = pipe.config.num_frames, pipe.config.height, pipe.config.width
    sizes = {f'half the frames ({f0 // 2} frames), upsampled in time': (f0 // 2, h0, w0),
             f'{h0 * 3 // 4}x{w0 * 3 // 4} pixels, upsampled in space': (f0, h0 * 3 // 4, w0 * 3 // 4)}
    trained = {tuple(b) for b in pipe.config.buckets}  # the bucketed model was trained at both working sizes: say so in the row
    sizes = {k + (' (a trained bucket)' if v in trained else ' (not a trained size)'): v for k, v in sizes.items()}
    tp = {k: E.TunedPipeline(pipe, work_size=v) for k, v in sizes.items()}
    s = timed(dict(base=pipe, **tp))
    curves['resolution'] = []
    for k, p in tp.items():
        rows.append(row('resolution', 'adaptive resolution', k, fidelity(p), s[k], s['base'], fp32_bytes))

flush()
if 'encoding' in a.parts:
    prompts = ['a small red circle moving left', 'a large blue square moving up', 'a small green triangle moving right',
               'a large yellow circle moving down']
    clips = pipe(prompts, seed=0).frames
    table = []
    for codec, qp in [('gif', None), ('h264', 0), ('h264', 10), ('h264', 20), ('h264', 30), ('h264', 40)]:
        rs = [E.encoding_cost(c, codec, qp) for c in clips]
        table.append(dict(codec=codec, qp=qp, bytes_per_second=float(np.mean([r['bytes_per_second'] for r in rs])),
                          psnr=float(np.mean([r['psnr'] for r in rs]))))
        print(table[-1], flush=True)
    curves['encoding'] = table
    gif = table[0]
    good = [r for r in table[1:] if r['psnr'] >= 40] or table[1:2]
    best = min(good, key=lambda r: r['bytes_per_second'])
    rows.append(row('encoding', 'advanced video encoding', f"mp4 (H.264, qp {best['qp']}) vs GIF, 4x upscaled, 8 fps", dict(seen=None, heldout=None, frame_change=None),
                    gain=gif['bytes_per_second'] / best['bytes_per_second'], note=f"{best['bytes_per_second'] / 1000:.1f} vs {gif['bytes_per_second'] / 1000:.1f} kB/s; "
                    f"PSNR {best['psnr']:.1f} vs {gif['psnr']:.1f} dB (>= 40 dB counts as no loss)"))

flush()
if 'training' in a.parts:
    import copy
    tr = {}
    for mp in (None, 'bf16'):
        learn = E.recipe_learner(copy.deepcopy(pipe.model), n_latents=256, mixed_precision=mp)
        u = E.step_utilisation(learn, steps=6)
        u['profile'] = E.profile_step(learn, steps=3, top=15)
        mm = [r for r in u['profile'] if any(k in r['op'] for k in ('mm', 'matmul', 'linear', 'attention', 'conv', 'bmm'))]
        u['matmul_share_of_time'] = sum(r['share'] for r in mm)
        u['floor_share'] = u['share'] / max(u['matmul_share_of_time'], 1e-9)  # if everything but the matmuls took no time
        tr[mp or 'fp32'] = u
        print(mp or 'fp32', {k: v for k, v in u.items() if k != 'profile'}, flush=True)
    d = pipe.model.transformer.cfg.dim  # the transformer's matmuls at the recipe's batch: 32 clips x 64 tokens
    tr['layer_shares'] = {f'{m}x{k}@{k}x{n}': E.matmul_share_at(m, k, n) for m, k, n in [(2048, d, 3 * d), (2048, d, 4 * d), (2048, 4 * d, d)]}
    print(tr['layer_shares'], flush=True)
    log = json.loads((Path(vidlab.__file__).parent / 'assets' / 'default' / 'train_log.json').read_text())
    # a progressive run's log is its last phase's, with the earlier phase under 'base'; its seconds count both phases
    phases = ([dict(preset=log['base']['preset'], steps=log['base']['steps'], seconds=log['base']['seconds'], evals=log['base']['evals'])]
              if 'base' in log else [])
    phases.append(dict(preset=log['preset'], steps=log['steps'], seconds=log['seconds'] - sum(ph['seconds'] for ph in phases), evals=log['evals']))
    tr['shipped_run'] = dict(seconds=log['seconds'], steps=sum(ph['steps'] for ph in phases), evals=log['evals'], phases=phases)
    curves['training'] = tr

load.update(utc_end=utc(), loadavg_end=[round(x, 2) for x in os.getloadavg()])
old_load = json.loads(out.read_text())['curves'].get('load', {}) if out.exists() else {}
curves['load'] = {**old_load, ' '.join(a.parts): load}
res = E.update_results(out, rows, curves, command='python benchmarks/efficiency.py (all parts; each row records its own command)',
                       note=f'{a.threads} torch thread; timings under load (2 cores shared with a fine-tuning benchmark, the test suite and '
                            f'lesson executions), speed-ups from pipelines timed round-robin in one run; fidelity: evaluate_pipeline, '
                            f'{a.n} videos per split; baseline: the shipped model at its own {STEPS} steps; run of {load["utc_start"]} to '
                            f'{load["utc_end"][-9:]}, load average {load["loadavg_start"][0]:g} at the start, {load["loadavg_end"][0]:g} at the end')
print(E.results_table(res['rows']))
print(f'({time.time() - t_start:.0f} s)')
