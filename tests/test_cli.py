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


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    "As the shell sees it: one line on stderr, exit code 2, no traceback, nothing written (issue 12)."
    for args in [('generate', 'a red circle', '--size', '4096', '-o', str(tmp_path / 'c.mp4')),
                 ('world', '--n', '10001', '--out', str(tmp_path / 'w')),
                 ('train', '--preset', 'huge', '--out', str(tmp_path / 'm'))]:  # the rest: tests/test_bad_inputs.py
        r = run(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count('\n') == 1 and r.stderr.startswith('vidlab') and 'Traceback' not in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_generate_defaults_from_the_model(tmp_path):
    "No --frames/--size/--steps: the shipped model's own settings (its config.json), stated in the output line."
    import numpy as np
    from vidlab.pipeline import TextToVideoPipeline
    c = TextToVideoPipeline.from_pretrained().config
    r = run('generate', 'a large blue square moving up', '-o', str(tmp_path / 'c.npy'))
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / 'c.npy').shape == (c.num_frames, c.height, c.width, 3)
    assert f'{c.num_inference_steps} steps' in r.stdout


def test_generate_height_and_width(tmp_path):
    "Issue 13: --frames, --height and --width (a landscape clip); a size the model never saw warns once, on stderr."
    import numpy as np
    r = run('generate', 'a small red circle moving left', '-o', str(tmp_path / 'c.npy'), '--steps', '2',
            '--frames', '8', '--height', '32', '--width', '64')
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / 'c.npy').shape == (8, 32, 64, 3)
    assert r.stderr.count('warning:') <= 1
