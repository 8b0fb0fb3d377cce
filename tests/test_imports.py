"Every module imports in a fresh process: exported code must not depend on notebook globals."
import subprocess, sys, pkgutil
from pathlib import Path
import pytest
import vidlab

MODULES = sorted(m.name for m in pkgutil.iter_modules(vidlab.__path__) if not m.name.startswith('_'))


@pytest.mark.parametrize('name', MODULES)
def test_fresh_import(name):
    r = subprocess.run([sys.executable, '-c', f'import vidlab.{name}'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_every_module_has_a_notebook():
    "One notebook, one module, same stem: no orphaned module, no unexported lesson."
    nbs = Path(__file__).parent.parent / 'nbs'
    stems = {p.stem.split('_', 1)[1] for p in nbs.glob('[0-9][0-9]_*.ipynb')}
    assert set(MODULES) == stems, f'modules without a notebook: {set(MODULES) - stems}; notebooks without a module: {stems - set(MODULES)}'


def test_lessons_are_numbered_without_gaps():
    nbs = Path(__file__).parent.parent / 'nbs'
    numbers = sorted(int(p.name[:2]) for p in nbs.glob('[0-9][0-9]_*.ipynb'))
    assert numbers == list(range(len(numbers))), f'lesson numbers have gaps or repeats: {numbers}'


def test_runtime_does_not_need_nbdev():
    code = 'import sys; sys.modules["nbdev"] = None; sys.modules["fastcore"] = None\n'
    code += ''.join(f'import vidlab.{m}\n' for m in MODULES)
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
