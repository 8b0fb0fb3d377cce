"The `vidlab` command as a user runs it: an installed console script, in a fresh process."
import json, shutil, subprocess, sys
import pytest


def run(*args, cwd=None):
    exe = shutil.which('vidlab')
    assert exe, 'the vidlab console script is not installed: pip install -e .'
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd)


def test_help():
    r = run('--help')
    assert r.returncode == 0 and 'world' in r.stdout


def test_world(tmp_path):
    r = run('world', '--n', '2', '--out', str(tmp_path / 's'), '--seed', '3')
    assert r.returncode == 0, r.stderr
    assert 'contact sheet' in r.stdout
    files = sorted(p.name for p in (tmp_path / 's').iterdir())
    assert sum(f.endswith('.mp4') for f in files) == 2 and sum(f.endswith('.gif') for f in files) == 2
    assert 'contact_sheet.png' in files
    caps = [json.loads(l) for l in (tmp_path / 's' / 'captions.jsonl').read_text().splitlines()]
    assert len(caps) == 2 and all(c['caption'].startswith('a ') for c in caps)


def test_world_same_seed_same_clips(tmp_path):
    for d in 'ab': assert run('world', '--n', '2', '--out', str(tmp_path / d), '--formats', 'npy').returncode == 0
    import numpy as np
    for p in (tmp_path / 'a').glob('*.npy'):
        assert np.array_equal(np.load(p), np.load(tmp_path / 'b' / p.name))


def test_bad_arguments():
    r = run('world', '--split', 'nope')
    assert r.returncode == 2 and 'invalid choice' in r.stderr
    r = run('world', '--size', '7', '--n', '1', '--out', '/tmp/vidlab_bad_size')
    assert r.returncode == 2 and 'error' in r.stderr


def test_generate(tmp_path):
    r = run('generate', 'a large blue square moving up', '-o', str(tmp_path / 'c.gif'), '--seed', '1', '--steps', '8')
    assert r.returncode == 0, r.stderr
    assert (tmp_path / 'c.gif').stat().st_size > 0 and 'wrote' in r.stdout


def test_generate_warns_on_unknown_words(tmp_path):
    r = run('generate', 'a small purple circle moving left', '-o', str(tmp_path / 'c.npy'), '--steps', '4')
    assert r.returncode == 0 and 'purple' in r.stderr


def test_generate_bad_size(tmp_path):
    r = run('generate', 'a red circle', '--size', '30', '-o', str(tmp_path / 'c.npy'))
    assert r.returncode == 2 and 'height=30' in r.stderr


def test_train_tiny_and_eval(tmp_path):
    r = run('train', '--preset', 'tiny', '--out', str(tmp_path / 'm'))
    assert r.returncode == 0, r.stderr
    r = run('eval', '--model', str(tmp_path / 'm'), '--n', '4', '--steps', '4')
    assert r.returncode == 0, r.stderr
    assert 'seen' in r.stdout and 'held-out' in r.stdout
