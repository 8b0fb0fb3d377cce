#!/usr/bin/env python3
"""Store the lessons' outputs: run each notebook top to bottom in a real Jupyter kernel and keep what it shows.

    python tools/execute.py                          # every lesson (nbs/NN_*.ipynb and index.ipynb), in place
    python tools/execute.py --only 12_pipeline 08_samplers
    python tools/execute.py --out /tmp/executed      # write executed copies there, leave nbs/ alone
    python tools/execute.py --fast                   # leave `#| slow` cells out (a quick try; --check warns)
    python tools/execute.py --check                  # CI: fail if a notebook's code changed since its outputs
    python tools/execute.py --check --require-outputs   # ... and if one has none (once every lesson is executed)
    python tools/execute.py --sizes                  # the size of each notebook against the budget

Full mode (the default) runs every code cell, `#| slow` ones included; `#| eval: false` cells are skipped, as
`nbdev_test` skips them. TRAIN switches stay as the notebook sets them (the shipped results are loaded). Every run
is seeded (Python, numpy and torch seeded with 0 before the first cell, `PYTHONHASHSEED=0`, one torch thread, the CPU),
so a re-run gives the same pictures. The kernel runs in `nbs/`, as a learner's Jupyter does. Every widget is stored
with a PNG of its state (`vidlab.pages.snapshot_widgets`, lesson 23), so pages rendered without a kernel show it; the widget view
itself (a pointer into a kernel that no longer exists, with a new random id each run) is not stored.

After the run the notebook is cleaned exactly as `nbdev_clean` cleans it (execution counts and cell metadata go,
outputs stay), and its metadata records, under the key `vidlab`, the sha256 of the code cells that made the outputs:
`--check` recomputes it. A notebook without outputs passes `--check` with a warning until it has been executed.
Dev-only: the package never imports this.
"""
import argparse, hashlib, json, os, re, sys, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / 'nbs'
KEY = 'vidlab'  # notebook metadata key of the record (settings.ini: `allowed_metadata_keys = vidlab` keeps it)
BUDGET = 2 * 2**20  # bytes: the most a notebook with its outputs may weigh
SKIP = re.compile(r'^\s*#\|\s*eval:\s*false\b', re.MULTILINE)  # cells nbdev_test skips: never run
SLOW = re.compile(r'^\s*#\|\s*slow\b', re.MULTILINE)  # cells only full mode runs
SEED = 0
PREAMBLE = '''\
import vidlab  # first, as a learner's kernel: its thread wait setting applies only before torch loads (lesson 20)
import torch as _t
from vidlab.core import set_seed as _s
from vidlab.pages import snapshot_widgets as _w
_s({seed}); _t.set_num_threads({threads}); _w()
del _t, _s, _w, vidlab'''  # run before the first cell, then removed: seeds, and every widget stored with a picture of its state


def lessons(nbs:Path=NBS, only=None) -> list:
    "The notebooks to run: `nbs/NN_*.ipynb` in course order, then `index.ipynb`; `only` picks stems."
    paths = sorted(nbs.glob('[0-9][0-9]_*.ipynb')) + ([nbs / 'index.ipynb'] if (nbs / 'index.ipynb').exists() else [])
    if not only: return paths
    by_stem = {p.stem: p for p in paths}
    unknown = [s for s in only if s not in by_stem]
    if unknown: raise SystemExit(f'unknown lesson(s) {unknown}: known are {", ".join(by_stem)}')
    return [by_stem[s] for s in only]


def _source(cell) -> str:
    s = cell.get('source', '')
    return ''.join(s) if isinstance(s, list) else s


def code_hash(nb:dict) -> str:
    "sha256 of the code cells' sources (trailing spaces and empty cells ignored): what produced the outputs."
    code = ['\n'.join(l.rstrip() for l in _source(c).strip().splitlines()) for c in nb['cells'] if c['cell_type'] == 'code']
    return hashlib.sha256('\x00'.join(c for c in code if c).encode()).hexdigest()


def has_outputs(nb:dict) -> bool: return any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code')


def _lines(text):
    "A multi-line string as the list of lines nbformat stores (each with its newline)."
    if isinstance(text, list): return text
    return text.splitlines(keepends=True) if isinstance(text, str) and '\n' in text else text


WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json'  # points at a kernel's widget model: dead once stored


def _plain(o):
    "An nbclient output as plain JSON, stored as Jupyter stores it (text as lists of lines), without widget views."
    o = json.loads(json.dumps(o))
    o.get('data', {}).pop(WIDGET_VIEW, None)  # a random model id per run; the picture `with_snapshot` adds stays
    if 'text' in o: o['text'] = _lines(o['text'])
    for k, v in o.get('data', {}).items():
        if k.startswith('text/') or k in ('image/svg+xml', 'application/javascript'): o['data'][k] = _lines(v)
    return o


PROGRESS = re.compile(r'\r|\d+%\|')  # a progress bar (tqdm) on stderr: timings that change every run


def _quiet(outputs:list) -> list:
    "Leave out noise: progress-bar lines on stderr (their timings differ every run); the rest of stderr stays."
    kept = []
    for o in outputs:
        if o.get('output_type') == 'stream' and o.get('name') == 'stderr':
            lines = [l for l in ''.join(_lines(o['text'])).splitlines(keepends=True) if not PROGRESS.search(l)]
            if not lines: continue
            o['text'] = lines
        kept.append(o)
    return kept


def _clean(nb:dict):
    "Clean as `nbdev_clean` does with this repository's settings, keeping the record of this tool."
    from nbdev.config import get_config
    from nbdev.clean import clean_nb
    cfg = get_config(path=ROOT)
    keys = set(cfg.get('allowed_metadata_keys', '').split()) | {KEY}
    clean_nb(nb, False, keys, cfg.get('allowed_cell_metadata_keys', '').split(), cfg.get('clean_ids', True))


def settings_keep_record() -> bool:
    "Does settings.ini let `nbdev_clean` keep the record? (`allowed_metadata_keys` must name `vidlab`.)"
    from nbdev.config import get_config
    return KEY in get_config(path=ROOT).get('allowed_metadata_keys', '').split()


def execute(path:Path, out:Path, fast:bool=False, timeout:int=1800, threads:int=1, seed:int=SEED) -> float:
    "Run `path` in a fresh kernel (cwd `nbs/`), write it with its outputs to `out`; returns seconds. Raises on a failing cell."
    import nbformat, nbclient
    from execnb.nbio import write_nb
    nb = json.loads(path.read_text())
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # nbdev_clean strips cell ids: nbformat warns that they are missing
        run = nbformat.reads(json.dumps(nb), as_version=4)
    for c in run.cells:
        if c.cell_type == 'code' and (SKIP.search(c.source) or (fast and SLOW.search(c.source))): c.source = ''
    run.cells.insert(0, nbformat.v4.new_code_cell(PREAMBLE.format(seed=seed, threads=threads)))
    env = dict(PYTHONHASHSEED=str(seed), VIDLAB_DEVICE='cpu', OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    t0 = time.perf_counter()
    try:
        client = nbclient.NotebookClient(run, timeout=timeout, kernel_name='python3', store_widget_state=False,
                                         resources={'metadata': {'path': str(path.parent)}})
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v
    seconds = time.perf_counter() - t0
    for cell, done in zip(nb['cells'], run.cells[1:]):
        if cell['cell_type'] == 'code': cell['outputs'] = _quiet([_plain(o) for o in done.get('outputs', [])])
    nb['metadata'][KEY] = dict(code_sha256=code_hash(nb), mode='fast' if fast else 'full')
    _clean(nb)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, out)
    return seconds


def check(paths, require_outputs:bool=False) -> tuple[list, list]:
    "(problems, warnings): stale or unrecorded outputs fail; a notebook not executed yet (fails if `require_outputs`), or executed --fast, warns."
    problems, warns = [], []
    for p in paths:
        nb = json.loads(Path(p).read_text())
        rec = nb.get('metadata', {}).get(KEY)
        cmd = f'python tools/execute.py --only {p.stem}'
        if not has_outputs(nb):
            if rec: problems.append(f'{p.name}: its outputs were stripped (by `nbdev_clean --clear_all`, or saved without them): run `{cmd}`')
            else: (problems if require_outputs else warns).append(f'{p.name}: no outputs yet (run `{cmd}`)')
        elif not rec: problems.append(f'{p.name}: has outputs but no record of the code that made them '
                                      f'(saved from Jupyter, or settings.ini lacks `allowed_metadata_keys = {KEY}`): run `{cmd}`')
        elif rec.get('code_sha256') != code_hash(nb): problems.append(f'{p.name}: its code changed since its outputs were made: run `{cmd}`')
        elif rec.get('mode') != 'full': warns.append(f'{p.name}: executed without its `#| slow` cells (--fast)')
    return problems, warns


def _output_bytes(cell) -> int: return len(json.dumps(cell.get('outputs', [])))


def sizes(paths, budget:int=BUDGET) -> tuple[list, list]:
    "(rows, over): each notebook's (name, bytes, bytes of outputs, biggest output cell index and bytes), and those over `budget`."
    rows = []
    for p in paths:
        nb = json.loads(Path(p).read_text())
        cells = [(i, _output_bytes(c)) for i, c in enumerate(nb['cells']) if c['cell_type'] == 'code']
        i, big = max(cells, key=lambda x: x[1], default=(None, 0))
        rows.append((Path(p).name, Path(p).stat().st_size, sum(b for _, b in cells), i, big))
    return rows, [r for r in rows if r[1] > budget]


def print_sizes(rows, budget:int=BUDGET):
    print(f'{"notebook":28} {"size":>9} {"outputs":>9}  biggest output (cell: size)   budget {budget / 2**20:.1f} MiB')
    for name, size, outs, i, big in rows:
        flag = '  OVER BUDGET' if size > budget else ''
        print(f'{name:28} {size / 1024:8.0f}K {outs / 1024:8.0f}K  cell {i}: {big / 1024:.0f}K{flag}')
    print(f'{"total":28} {sum(r[1] for r in rows) / 2**20:8.2f}M')


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', nargs='+', metavar='STEM', help='lessons to run, e.g. 00_core 12_pipeline (default: all)')
    ap.add_argument('--out', type=Path, help='write executed copies into this folder (default: in place)')
    ap.add_argument('--nbs', type=Path, default=NBS, help='the lessons folder (default: nbs/)')
    ap.add_argument('--fast', action='store_true', help='leave `#| slow` cells out')
    ap.add_argument('--timeout', type=int, default=1800, help='seconds one cell may take')
    ap.add_argument('--threads', type=int, default=1, help='torch threads in the kernel (1: the same numbers everywhere)')
    ap.add_argument('--check', action='store_true', help='only check: stale outputs and the size budget; exit 1 on a problem')
    ap.add_argument('--require-outputs', action='store_true', help='with --check: a notebook without outputs fails too')
    ap.add_argument('--sizes', action='store_true', help='only report sizes; exit 1 when one is over budget')
    ap.add_argument('--budget-mb', type=float, default=BUDGET / 2**20, help='size budget per notebook, MiB')
    a = ap.parse_args(argv)
    budget = int(a.budget_mb * 2**20)
    paths = lessons(a.nbs.resolve(), a.only)
    if a.check or a.sizes:
        problems, warns = check(paths, a.require_outputs) if a.check else ([], [])
        rows, over = sizes(paths, budget)
        if a.sizes: print_sizes(rows, budget)
        problems += [f'{n}: {s / 2**20:.2f} MiB is over the {budget / 2**20:.1f} MiB budget (biggest output: cell {i}, '
                     f'{b / 2**20:.2f} MiB): show pictures at reader size, videos small' for n, s, _, i, b in over]
        for w in warns: print('warning:', w)
        for p in problems: print('FAIL:', p)
        if a.check: print(f'{len(paths)} notebooks checked: {len(problems)} problems, {len(warns)} warnings')
        return 1 if problems else 0
    if not settings_keep_record():
        print(f'warning: settings.ini lacks `allowed_metadata_keys = {KEY}`: nbdev_clean will strip the record --check reads')
    failed, rows = [], []
    for p in paths:
        out = (a.out / p.name) if a.out else p
        print(f'{p.name}: running ({"fast" if a.fast else "full"} mode)...', flush=True)
        try: seconds = execute(p, out, fast=a.fast, timeout=a.timeout, threads=a.threads)
        except Exception as e:  # nbclient's CellExecutionError names the cell and carries the traceback
            print(f'{p.name}: FAILED, not written:\n{str(e)[-3000:]}', flush=True)
            failed.append(p.name)
            continue
        print(f'{p.name}: {seconds:.0f} s, {out.stat().st_size / 1024:.0f} KiB -> {out}', flush=True)
        rows.append(out)
    if rows: print_sizes(sizes(rows, budget)[0], budget)
    if a.out and (a.nbs / 'images').is_dir():  # the lessons' pictures, so the copies render like the originals
        import shutil
        shutil.copytree(a.nbs / 'images', a.out / 'images', dirs_exist_ok=True)
    if failed: print(f'failed: {", ".join(failed)}')
    return 1 if failed else 0


if __name__ == '__main__': sys.exit(main())
