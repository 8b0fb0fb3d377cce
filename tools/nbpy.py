#!/usr/bin/env python3
"""Round-trip a notebook and a percent-format script, so a lesson can be drafted and run as plain Python.

    python tools/nbpy.py to-nb draft.py nbs/NN_name.ipynb   # script -> notebook (outputs empty)
    python tools/nbpy.py to-py nbs/NN_name.ipynb draft.py   # notebook -> script

Script format: a line `# %%` starts a code cell, `# %% [markdown]` a markdown cell whose lines are written
as comments (`# text`, or `#` for a blank line). Dev-only: the package never imports this.
"""
import json, sys
from pathlib import Path

MD, CODE = '# %% [markdown]', '# %%'


def _cell(kind, lines):
    while lines and not lines[-1].strip(): lines.pop()
    while lines and not lines[0].strip(): lines.pop(0)
    if kind == 'markdown': lines = [l[2:] if l.startswith('# ') else l[1:] if l.startswith('#') else l for l in lines]
    src = [l + '\n' for l in lines]
    if src: src[-1] = src[-1][:-1]
    c = dict(cell_type=kind, metadata={}, source=src)
    if kind == 'code': c.update(execution_count=None, outputs=[])
    return c


def py2nb(text):
    "Parse a percent-format script into a notebook dict."
    cells, kind, buf = [], None, []
    for line in text.splitlines():
        if line.strip() == MD or line.strip() == CODE:
            if kind is not None: cells.append(_cell(kind, buf))
            kind, buf = ('markdown' if line.strip() == MD else 'code'), []
        else: buf.append(line)
    if kind is not None: cells.append(_cell(kind, buf))
    cells = [c for c in cells if c['source']]
    return dict(cells=cells, metadata=dict(kernelspec=dict(display_name='python3', language='python', name='python3')),
                nbformat=4, nbformat_minor=5)


def nb2py(nb):
    "Write a notebook dict as a percent-format script."
    out = []
    for c in nb['cells']:
        src = ''.join(c['source']).splitlines()
        if c['cell_type'] == 'markdown': out += [MD] + [('# ' + l) if l else '#' for l in src]
        else: out += [CODE] + src
        out.append('')
    return '\n'.join(out)


if __name__ == '__main__':
    cmd, src, dst = sys.argv[1:4]
    if cmd == 'to-nb': Path(dst).write_text(json.dumps(py2nb(Path(src).read_text()), indent=1, ensure_ascii=False) + '\n')
    elif cmd == 'to-py': Path(dst).write_text(nb2py(json.loads(Path(src).read_text())))
    else: sys.exit(f'unknown command {cmd!r}: use to-nb or to-py')
