#!/usr/bin/env python3
"""Render `nbs/index.ipynb` to `README.md`, as `nbdev_readme` does (quarto, which it needs, is not installable offline).

    python tools/readme.py          # write README.md
    python tools/readme.py --check  # exit 1 if README.md is out of date

Markdown cells are copied; code cells become ```python blocks; cells whose first line is `#| hide` are left out,
and `#| ...` directive lines are dropped. Relative links are written from `nbs/` (where the notebook is, so they work in
Jupyter) and rebased onto the repository root for the README. Dev-only: the package never imports this.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


LINK = re.compile(r'(\]\()(?![a-z]+://|/|#)([^)\s]+\))')  # a markdown link or image whose target is a relative path


def rebase(markdown:str) -> str:
    "Relative links of a notebook in `nbs/`, made relative to the repository root."
    return LINK.sub(r'\1nbs/\2', markdown)


def render(nb_path=ROOT / 'nbs' / 'index.ipynb') -> str:
    "The README text for a notebook."
    parts = []
    for c in json.loads(Path(nb_path).read_text())['cells']:
        lines = ''.join(c['source']).splitlines()
        if c['cell_type'] == 'markdown': parts.append(rebase('\n'.join(lines)))
        elif c['cell_type'] == 'code':
            if lines and lines[0].replace(' ', '') in ('#|hide', '#|export', '#|exporti'): continue
            code = [l for l in lines if not l.startswith('#|')]
            if code: parts.append('```python\n' + '\n'.join(code) + '\n```')
    return '\n\n'.join(parts) + '\n'


if __name__ == '__main__':
    text, readme = render(), ROOT / 'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit('README.md is out of date with nbs/index.ipynb: run `python tools/readme.py`')
    else: readme.write_text(text)
