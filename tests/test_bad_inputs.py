"""Issue 12's bad inputs and their neighbours, each with its exact outcome, through the CLI and the API.

Every CLI case runs `vidlab.cli.main(argv)` in-process (the console script is `sys.exit(main())`; tests/test_cli.py
runs the real script) and asserts: the exit code, the one line on stderr naming what was wrong and what is allowed,
no traceback, and, for a failure, that nothing changed on disk. Cases are tagged by outcome: `error` (a clear error)
or `works` (it runs, with any warning stated once). `python -m pytest tests/test_bad_inputs.py -q -rA | grep -c`
style counts: see OUTCOMES at the bottom, printed by `test_outcome_counts`.
"""
import json, math, os, shutil, struct
from pathlib import Path
import numpy as np
import pytest
import torch
from vidlab.cli import main
from vidlab.pipeline import TextToVideoPipeline

PROMPT = 'a small red circle moving left'
OUTCOMES = {'error': 0, 'works': 0}


def snapshot(root: Path) -> dict:
    "Every file (size, modification time) and folder under `root`: 'nothing changed on disk' compares two."
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else 'folder'
            for p in sorted(root.rglob('*'))}


def cli(capsys, *argv):
    "Run `vidlab ARGV` in-process: (exit code, stdout, stderr)."
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_error(capsys, root, argv, message):
    "ARGV fails with exit code 2 and one stderr line containing `message`, without a traceback or any change under root."
    before = snapshot(root)
    code, out, err = cli(capsys, *argv)
    assert code == 2, (argv, code, out, err)
    assert message in err, (argv, err)
    assert err.count('\n') == 1 and err.startswith('vidlab') and 'Traceback' not in err, (argv, err)
    assert snapshot(root) == before, f'{argv} changed files on disk'
    OUTCOMES['error'] += 1


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "A model folder trained with `vidlab train --preset tiny` (a few seconds), checkpoint included."
    d = tmp_path_factory.mktemp('tiny') / 'run'
    assert main(['train', '--preset', 'tiny', '--out', str(d)]) == 0
    return d


# ---------------------------------------------------------------- vidlab world
WORLD_ERRORS = [
    (['--n', '0'], "argument --n: must be a whole number >= 1, got '0'"),
    (['--n', '-1'], "argument --n: must be a whole number >= 1, got '-1'"),
    (['--n', 'many'], "argument --n: must be a whole number >= 1, got 'many'"),
    (['--n', '10001'], "--n must be from 1 to 10000 (the world's length), got 10001"),
    (['--n', '1000000'], "--n must be from 1 to 10000 (the world's length), got 1000000"),
    (['--split', 'nope'], "argument --split: invalid choice: 'nope'"),
    (['--frames', '0'], "argument --frames: must be a whole number >= 1, got '0'"),
    (['--frames', '1'], 'frames=1 is not allowed: use an int from 2 to 128'),
    (['--frames', '129'], 'frames=129 is not allowed: use an int from 2 to 128'),
    (['--size', '7'], 'is not allowed: use an int from 16 to 128 pixels'),
    (['--size', '4096'], 'is not allowed: use an int from 16 to 128 pixels'),
    (['--height', '8'], 'height=8 is not allowed: use an int from 16 to 128 pixels'),
    (['--size', '32', '--width', '64'], 'give either --size (square frames) or --height/--width, not both'),
    (['--formats', 'avi'], "--formats 'avi': allowed are mp4, gif, npy"),
    (['--formats', 'mp4,,webm'], "allowed are mp4, gif, npy"),
    (['--formats', ''], 'allowed are mp4, gif, npy'),
    (['--fps', '0'], "argument --fps: must be a finite number from 1 to 120, got '0'"),
    (['--fps', 'nan'], "argument --fps: must be a finite number from 1 to 120, got 'nan'"),
    (['--seed', '-1'], "argument --seed: must be a whole number from 0 to 9223372036854775807, got '-1'"),
    (['--bogus'], 'unrecognized arguments: --bogus'),
]


@pytest.mark.parametrize('extra,message', WORLD_ERRORS, ids=[' '.join(a) for a, _ in WORLD_ERRORS])
def test_world_error(capsys, tmp_path, extra, message):
    assert_error(capsys, tmp_path, ['world', '--out', tmp_path / 'out', *extra], message)


def test_world_out_is_a_file(capsys, tmp_path):
    (tmp_path / 'f').write_text('x')
    assert_error(capsys, tmp_path, ['world', '--n', '1', '--out', tmp_path / 'f'], 'is a file, not a folder')


def test_world_out_under_a_file(capsys, tmp_path):
    (tmp_path / 'f').write_text('x')
    assert_error(capsys, tmp_path, ['world', '--n', '1', '--out', tmp_path / 'f' / 'sub'], 'is a file, not a folder')


def test_world_out_read_only(capsys, tmp_path):
    assert_error(capsys, tmp_path, ['world', '--n', '1', '--out', '/sys/vidlab_samples'], 'cannot write to /sys')
    assert not Path('/sys/vidlab_samples').exists()


@pytest.mark.skipif(os.geteuid() == 0, reason='the superuser may write into a read-only folder')
def test_world_out_chmod_read_only(capsys, tmp_path):
    ro = tmp_path / 'ro'; ro.mkdir(); ro.chmod(0o555)
    try: assert_error(capsys, tmp_path, ['world', '--n', '1', '--out', ro / 'x'], f'cannot write to {ro}')
    finally: ro.chmod(0o755)


def test_world_failure_leaves_folder_as_it_was(capsys, tmp_path, monkeypatch):
    "A world run that fails half way (here: the third clip's write) leaves no clips and keeps the old captions."
    out = tmp_path / 'out'
    assert cli(capsys, 'world', '--n', '2', '--out', out, '--formats', 'npy')[0] == 0
    before = snapshot(tmp_path)
    import vidlab.cli as C
    real, calls = C.save_video, []
    def failing_save(video, path, **kw):
        calls.append(path)
        if len(calls) == 3: raise OSError(28, 'No space left on device')
        return real(video, path, **kw)
    monkeypatch.setattr(C, 'save_video', failing_save)
    code, _, err = cli(capsys, 'world', '--n', '5', '--out', out, '--formats', 'npy', '--seed', '9')
    assert code == 2 and 'No space left on device' in err and err.count('\n') == 1
    assert snapshot(tmp_path) == before  # neither new clips nor a staging folder
    OUTCOMES['error'] += 1


def test_world_works_non_square(capsys, tmp_path):
    code, out, err = cli(capsys, 'world', '--n', '2', '--frames', '8', '--height', '24', '--width', '48',
                         '--formats', 'npy', '--out', tmp_path)
    assert (code, err) == (0, '')
    clips = sorted(tmp_path.glob('*.npy'))
    assert len(clips) == 2 and np.load(clips[0]).shape == (8, 24, 48, 3)
    assert len((tmp_path / 'captions.jsonl').read_text().splitlines()) == 2
    assert not list(tmp_path.glob('.vidlab-*'))
    OUTCOMES['works'] += 1


# ---------------------------------------------------------------- vidlab generate
GENERATE_ERRORS = [
    (['--size', '0'], "argument --size: must be a whole number >= 1, got '0'"),
    (['--frames', '0'], "argument --frames: must be a whole number >= 1, got '0'"),
    (['--height', '0'], "argument --height: must be a whole number >= 1, got '0'"),
    (['--steps', '0'], "argument --steps: must be a whole number >= 1, got '0'"),
    (['--steps', '-5'], "argument --steps: must be a whole number >= 1, got '-5'"),
    (['--steps', '2.5'], "argument --steps: must be a whole number >= 1, got '2.5'"),
    (['--steps', '100000'], 'num_inference_steps=100000 is out of range: allowed are 1 to 1000'),
    (['--size', '4096'], 'height=4096'),
    (['--size', '30'], 'height=30 does not fit the model'),
    (['--height', '32', '--width', '36'], 'width=36 does not fit the model'),
    (['--frames', '1000'], 'num_frames=1000'),
    (['--frames', '3'], 'num_frames=3 does not fit the model'),
    (['--size', '32', '--height', '32'], 'give either --size (square frames) or --height/--width, not both'),
    (['--guidance', 'nan'], "argument --guidance: must be a finite number, got 'nan'"),
    (['--guidance', 'inf'], "argument --guidance: must be a finite number, got 'inf'"),
    (['--guidance', '1000'], 'guidance_scale=1000.0 is out of range: allowed are 0.0 to 20.0'),
    (['--guidance', '-1'], 'guidance_scale=-1.0 is out of range: allowed are 0.0 to 20.0'),
    (['--scale', '1000'], 'scale=1000 is out of range: allowed are 1 to 16'),
    (['--scale', '0'], "argument --scale: must be a whole number >= 1, got '0'"),
    (['--fps', '-8'], "argument --fps: must be a finite number from 1 to 120, got '-8'"),
    (['--seed', '-1'], "argument --seed: must be a whole number from 0 to 9223372036854775807, got '-1'"),
    (['--seed', '99999999999999999999'], 'argument --seed: must be a whole number from 0 to'),
    (['--sampler', 'euler'], "argument --sampler: invalid choice: 'euler'"),
]


@pytest.mark.parametrize('extra,message', GENERATE_ERRORS, ids=[' '.join(a) for a, _ in GENERATE_ERRORS])
def test_generate_error(capsys, tmp_path, extra, message):
    assert_error(capsys, tmp_path, ['generate', PROMPT, '-o', tmp_path / 'c.npy', *extra], message)


def test_generate_output_is_a_folder(capsys, tmp_path):
    assert_error(capsys, tmp_path, ['generate', PROMPT, '-o', tmp_path], 'is a folder: give a file name ending in .mp4, .gif, .npy')


@pytest.mark.parametrize('name', ['c.avi', 'c', 'c.mp4.tmp', 'C.PNG'])
def test_generate_unknown_suffix(capsys, tmp_path, name):
    assert_error(capsys, tmp_path, ['generate', PROMPT, '-o', tmp_path / name], 'the file name must end in one of .mp4, .gif, .npy')


def test_generate_output_read_only(capsys, tmp_path):
    assert_error(capsys, tmp_path, ['generate', PROMPT, '-o', '/sys/clip.npy'], 'cannot write to /sys')


def test_generate_output_under_a_file(capsys, tmp_path):
    (tmp_path / 'f').write_text('x')
    assert_error(capsys, tmp_path, ['generate', PROMPT, '-o', tmp_path / 'f' / 'c.npy'], 'is a file, not a folder')


def test_generate_limits_fail_fast(capsys, tmp_path):
    "--size 4096 once ran for minutes at 3.4 GB; --scale 1000 tried to allocate 183 GiB after generating."
    import time
    t = time.perf_counter()
    for extra in (['--size', '4096'], ['--scale', '1000'], ['--frames', '1000']):
        assert cli(capsys, 'generate', PROMPT, '-o', tmp_path / 'c.gif', *extra)[0] == 2
    assert time.perf_counter() - t < 30  # model loads only: nothing generated
    assert list(tmp_path.iterdir()) == []


# ---- damaged model folders
def _tensors(path):
    from safetensors.torch import load_file
    from safetensors import safe_open
    with safe_open(str(path), framework='pt') as f: meta = f.metadata()
    return load_file(str(path)), meta


def damage_config(d, fn):
    cfg = json.loads((d / 'config.json').read_text())
    fn(cfg)
    (d / 'config.json').write_text(json.dumps(cfg))


MODEL_DAMAGE = {
    'config {}': (lambda d: (d / 'config.json').write_text('{}'), 'config.json is missing the field(s)'),
    'config not JSON': (lambda d: (d / 'config.json').write_text('{"frames": 16,'), 'is not valid JSON'),
    'config a list': (lambda d: (d / 'config.json').write_text('[1, 2]'), 'must be a JSON object'),
    'no vae.scaling_factor': (lambda d: damage_config(d, lambda c: c['vae'].pop('scaling_factor')), 'scaling_factor'),
    'no vae.shift_factor': (lambda d: damage_config(d, lambda c: c['vae'].pop('shift_factor')), 'shift_factor'),
    'unknown field': (lambda d: damage_config(d, lambda c: c.update(colour='blue')), 'unknown field(s) colour'),
    'no model.safetensors': (lambda d: (d / 'model.safetensors').unlink(), 'model.safetensors is missing'),
    'no tokenizer.json': (lambda d: (d / 'tokenizer.json').unlink(), 'tokenizer.json is missing'),
    'truncated weights': (lambda d: (d / 'model.safetensors').write_bytes((d / 'model.safetensors').read_bytes()[:1000]),
                          'is not a readable safetensors checkpoint'),
    'empty weights': (lambda d: (d / 'model.safetensors').write_bytes(b''), 'is not a readable safetensors checkpoint'),
}


def _flip_byte(d):
    p = d / 'model.safetensors'
    b = bytearray(p.read_bytes()); b[-100] ^= 0x40; p.write_bytes(bytes(b))


def _int32_tensor(d):
    from vidlab.core import save_safetensors
    tensors, meta = _tensors(d / 'model.safetensors')
    k = next(k for k, v in tensors.items() if v.dtype == torch.float32)
    tensors[k] = tensors[k].to(torch.int32)
    save_safetensors(tensors, d / 'model.safetensors', metadata={m: json.loads(v) for m, v in meta.items() if m == 'format'})


def _pickle_as_safetensors(d):
    import pickle
    class Boom:
        def __reduce__(self): return (os.system, (f'touch {d / "PWNED"}',))
    (d / 'model.safetensors').write_bytes(pickle.dumps(Boom()))


MODEL_DAMAGE.update({
    'flipped byte': (_flip_byte, 'do not match their checksums'),
    'int32 tensor': (_int32_tensor, 'torch.int32 where torch.float32 belongs'),
    'pickle renamed': (_pickle_as_safetensors, 'is not a readable safetensors checkpoint'),
})


@pytest.mark.parametrize('damage', list(MODEL_DAMAGE))
def test_generate_damaged_model(capsys, tmp_path, tiny, damage):
    "A model folder written by today's code (checksums, full config), damaged one way each."
    d = tmp_path / 'model'
    shutil.copytree(tiny, d)
    fn, message = MODEL_DAMAGE[damage]
    fn(d)
    assert_error(capsys, tmp_path, ['generate', PROMPT, '--model', d, '-o', tmp_path / 'c.npy', '--steps', '2'], message)
    assert not (d / 'PWNED').exists()  # a pickle's payload never runs


def test_generate_no_model_folder(capsys, tmp_path):
    assert_error(capsys, tmp_path, ['generate', PROMPT, '--model', tmp_path / 'nope', '-o', tmp_path / 'c.npy'],
                 'no model folder at')


def test_generate_empty_model_folder(capsys, tmp_path):
    (tmp_path / 'm').mkdir()
    assert_error(capsys, tmp_path, ['generate', PROMPT, '--model', tmp_path / 'm', '-o', tmp_path / 'c.npy'],
                 'is not a vidlab model folder: config.json is missing')


# ---- what works
def test_generate_defaults_come_from_the_model(capsys, tmp_path, tiny):
    "The tiny model's own size and steps, not 16/32/25 hard-coded in the CLI."
    cfg = TextToVideoPipeline.from_pretrained(tiny).config
    code, out, err = cli(capsys, 'generate', PROMPT, '--model', tiny, '-o', tmp_path / 'c.npy')
    assert (code, err) == (0, '')
    assert np.load(tmp_path / 'c.npy').shape == (cfg.num_frames, cfg.height, cfg.width, 3)
    assert f'{cfg.num_inference_steps} steps' in out
    OUTCOMES['works'] += 1


def test_generate_untrained_size_warns_once(capsys, tmp_path, tiny):
    code, out, err = cli(capsys, 'generate', PROMPT, '--model', tiny, '-o', tmp_path / 'c.npy', '--steps', '2',
                         '--frames', '8', '--height', '64', '--width', '32')
    assert code == 0 and np.load(tmp_path / 'c.npy').shape == (8, 64, 32, 3)  # portrait: not among tiny's buckets
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith('warning:') and 'trained on' in lines[0], err
    OUTCOMES['works'] += 1


def test_generate_unknown_words_warn_once(capsys, tmp_path, tiny):
    code, out, err = cli(capsys, 'generate', 'a small purple circle moving left', '--model', tiny,
                         '-o', tmp_path / 'c.npy', '--steps', '2')
    assert code == 0 and err.count('unknown words') == 1 and len(err.splitlines()) == 1 and "['purple']" in err, err
    OUTCOMES['works'] += 1


@pytest.mark.parametrize('extra', [['--guidance', '0'], ['--guidance', '1'], ['--sampler', 'ddpm'], ['--scale', '16'],
                                   ['--seed', str(2**63 - 1)]], ids=lambda a: ' '.join(a))
def test_generate_edges_work(capsys, tmp_path, tiny, extra):
    code, out, err = cli(capsys, 'generate', PROMPT, '--model', tiny, '-o', tmp_path / 'c.gif', '--steps', '2', *extra)
    assert (code, err) == (0, ''), err
    assert (tmp_path / 'c.gif').stat().st_size > 0
    OUTCOMES['works'] += 1


def test_same_seed_same_video(capsys, tmp_path, tiny):
    for name in 'ab': cli(capsys, 'generate', PROMPT, '--model', tiny, '-o', tmp_path / f'{name}.npy', '--steps', '3', '--seed', '7')
    assert np.array_equal(np.load(tmp_path / 'a.npy'), np.load(tmp_path / 'b.npy'))
    OUTCOMES['works'] += 1


# ---------------------------------------------------------------- vidlab train / eval
def test_train_unknown_preset(capsys, tmp_path):
    assert_error(capsys, tmp_path, ['train', '--preset', 'huge', '--out', tmp_path / 'm'], "unknown preset 'huge': choose one of")


def test_train_out_is_a_file(capsys, tmp_path):
    (tmp_path / 'f').write_text('x')
    assert_error(capsys, tmp_path, ['train', '--preset', 'tiny', '--out', tmp_path / 'f'], 'is a file, not a folder')


@pytest.mark.parametrize('argv', [['world', '--out', ''], ['generate', 'x', '-o', ' '], ['generate', 'x', '--model', ''],
                                  ['train', '--preset', 'tiny', '--out', ''], ['eval', '--model', '']], ids=' '.join)
def test_empty_paths(capsys, tmp_path, monkeypatch, argv):
    "An empty name once meant the current folder: `train --out ''` trained into it."
    monkeypatch.chdir(tmp_path)
    assert_error(capsys, tmp_path, argv, 'must be a file or folder name, got an empty one')


def test_train_out_read_only(capsys, tmp_path):
    assert_error(capsys, tmp_path, ['train', '--preset', 'tiny', '--out', '/sys/run'], 'cannot write to /sys')


def _copy_run(tiny, tmp_path):
    d = tmp_path / 'run'
    shutil.copytree(tiny, d)
    return d


@pytest.mark.parametrize('damage,reason', [
    ('half', 'is not a readable safetensors checkpoint'),
    ('empty', 'is not a readable safetensors checkpoint'),
    ('flip', 'do not match their checksums'),
])
def test_train_resume_failure_says_why(capsys, tmp_path, tiny, damage, reason):
    "A truncated, empty or flipped checkpoint: the real reason and the way out, not `'ProgressBar' object has no attribute 'bar'`."
    d = _copy_run(tiny, tmp_path)
    ck = d / 'checkpoint.safetensors'
    b = ck.read_bytes()
    if damage == 'half': ck.write_bytes(b[:len(b) // 2])
    elif damage == 'empty': ck.write_bytes(b'')
    else:
        b = bytearray(b); b[-50] ^= 1; ck.write_bytes(bytes(b))
    code, out, err = cli(capsys, 'train', '--preset', 'tiny', '--out', d)
    assert code == 2 and err.count('\n') == 1, err
    assert f'could not resume from {ck}' in err and reason in err and '--restart' in err, err
    assert 'ProgressBar' not in err and 'Traceback' not in err
    OUTCOMES['error'] += 1


def test_train_other_preset_in_folder(capsys, tmp_path, tiny):
    d = _copy_run(tiny, tmp_path)
    assert_error(capsys, tmp_path, ['train', '--preset', 'default', '--out', d], "holds a run with preset 'tiny', not preset 'default'")


def test_train_other_seed_on_resume(capsys, tmp_path, tiny):
    "`--seed` on resume was silently ignored while train_log.json recorded the new seed."
    d = _copy_run(tiny, tmp_path)
    assert_error(capsys, tmp_path, ['train', '--preset', 'tiny', '--out', d, '--seed', '5'], 'holds a run with seed 0, not seed 5')
    log = json.loads((d / 'train_log.json').read_text())
    assert log['seed'] == 0


def test_eval_errors(capsys, tmp_path):
    assert_error(capsys, tmp_path, ['eval', '--n', '0'], "argument --n: must be a whole number >= 1, got '0'")
    assert_error(capsys, tmp_path, ['eval', '--steps', '0'], "argument --steps: must be a whole number >= 1, got '0'")
    assert_error(capsys, tmp_path, ['eval', '--model', tmp_path / 'nope'], 'no model folder at')
    assert_error(capsys, tmp_path, ['eval', '--n', '10001'], "--n must be from 1 to 10000 (the world's length), got 10001")


def test_command_line_errors(capsys, tmp_path):
    assert_error(capsys, tmp_path, [], 'the following arguments are required: {world,generate,train,finetune,eval}')
    assert_error(capsys, tmp_path, ['paint'], "invalid choice: 'paint' (choose from 'world', 'generate', 'train', 'finetune', 'eval')")
    assert_error(capsys, tmp_path, ['generate'], 'the following arguments are required: prompt')


def test_help_exits_zero(capsys):
    assert main(['--help']) == 0 and 'generate' in capsys.readouterr().out
    OUTCOMES['works'] += 1


def test_bug_still_shows_a_traceback(capsys, tmp_path, monkeypatch):
    "Only vidlab's own errors become one line: a bug (here a KeyError) propagates with its traceback."
    import vidlab.cli as C
    def buggy(args): raise KeyError('oops')
    monkeypatch.setattr(C, 'cmd_world', buggy)
    with pytest.raises(KeyError): main(['world', '--out', str(tmp_path)])


def test_traceback_env_shows_reported_errors(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv('VIDLAB_TRACEBACK', '1')
    with pytest.raises(ValueError, match='allowed are mp4, gif, npy'): main(['world', '--formats', 'avi', '--out', str(tmp_path)])


# ---------------------------------------------------------------- the API
@pytest.fixture(scope='module')
def pipe(tiny):
    return TextToVideoPipeline.from_pretrained(tiny)


@pytest.mark.parametrize('kw,message', [
    (dict(num_frames=0), 'num_frames'), (dict(height=0), 'height'), (dict(width=4096), 'width'),
    (dict(num_inference_steps=0), 'num_inference_steps'), (dict(num_inference_steps=10**6), 'num_inference_steps'),
    (dict(guidance_scale=float('nan')), 'guidance_scale'), (dict(guidance_scale=1e3), 'guidance_scale'),
    (dict(sampler='euler'), "unknown sampler 'euler'"), (dict(seed=[1, 2]), '2 seeds/generators for 1 prompts'),
], ids=lambda v: str(v) if isinstance(v, dict) else None)
def test_pipeline_limits(pipe, kw, message):
    "0 is an error, never silently replaced by a default; every limit is checked before any work."
    with pytest.raises(ValueError, match=message.replace('(', r'\(')): pipe(PROMPT, **kw)
    OUTCOMES['error'] += 1


def test_pipeline_bad_prompt(pipe):
    for bad in [None, [], [PROMPT, 3], 42]:
        with pytest.raises(TypeError, match='prompt must be a string or a non-empty list of strings'): pipe(bad)
        OUTCOMES['error'] += 1


@pytest.mark.parametrize('sampler', ['ddim', 'ddpm'])
def test_pipeline_video_depends_only_on_prompt_and_seed(pipe, sampler):
    "Seeds once depended on the batch: the same prompt and seed now give the same video in any batch."
    kw = dict(num_inference_steps=2, sampler=sampler)
    alone = pipe(PROMPT, seed=3, **kw).frames
    batch = pipe(['a large blue square moving up', PROMPT, 'a small green triangle moving down'], seed=[9, 3, 4], **kw).frames
    np.testing.assert_allclose(alone, batch[1], atol=1e-5)  # only float rounding of a batched matmul differs
    OUTCOMES['works'] += 1


def test_evaluator_inputs():
    from vidlab.data import ShapesWorld
    from vidlab.evaluation import prompt_fidelity
    b = ShapesWorld(seed=0).batch(range(8))
    video, prompts = b['video'], b['caption']  # (8, f, 3, h, w) floats in [0, 1]
    assert prompt_fidelity(video, prompts)['all'] == 1.0
    assert prompt_fidelity((video * 255).round().to(torch.uint8), prompts)['all'] == 1.0  # once 50%: clamped, not scaled
    for bad in (video * 255, video * 2 - 1):  # 0..255 floats, [-1, 1]: refused, not clamped
        with pytest.raises(ValueError): prompt_fidelity(bad, prompts)
        OUTCOMES['error'] += 1
    noise = torch.rand_like(video[:1])
    assert prompt_fidelity(noise, ['a large white square moving left'])['all'] == 0.0  # once 1.0
    assert prompt_fidelity(torch.full_like(video[:1], 0.5), ['a large white square moving left'])['all'] == 0.0
    with pytest.raises(ValueError): prompt_fidelity(video[:1], [''])  # the empty prompt once scored 1.0
    OUTCOMES['error'] += 1
    OUTCOMES['works'] += 3


def test_world_api_limits():
    from vidlab.data import ShapesWorld
    w = ShapesWorld(seed=0)
    with pytest.raises(IndexError, match='out of range'): w[10_000]
    with pytest.raises(ValueError): w.batch([])
    with pytest.raises(ValueError, match='is not allowed'): ShapesWorld(size=4096)
    with pytest.raises(ValueError, match='is not allowed'): ShapesWorld(frames=0)
    OUTCOMES['error'] += 4


def test_checksums_catch_flipped_bytes(tmp_path):
    from vidlab.core import save_safetensors, load_safetensors
    p = save_safetensors({'w': torch.arange(1000, dtype=torch.float32)}, tmp_path / 'w.safetensors', metadata=dict(a=1))
    b = bytearray(p.read_bytes()); b[-8] ^= 1; p.write_bytes(bytes(b))
    with pytest.raises(ValueError, match=r"w.safetensors is corrupt: tensors \['w'\] do not match their checksums"):
        load_safetensors(p)
    OUTCOMES['error'] += 1


def test_outcome_counts():
    "The closing note's counts (when the whole file runs; this test runs last)."
    print(f"\nbad-input suite: {OUTCOMES['error']} clear errors, {OUTCOMES['works']} work")
