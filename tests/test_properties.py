"""Property tests (hypothesis) over the argument space of the CLI and the pipeline: every combination either works or
fails with the documented error (exit code 2 and one line on stderr; ValueError/TypeError from the API); never a raw
traceback, never a partial file.

Each argument draws from values labelled good (allowed for the tiny model) or bad (outside a documented range or grid),
so the property is exact: the command works if and only if every argument is good.
"""
import tempfile
from pathlib import Path
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from vidlab.cli import main

pytestmark = pytest.mark.filterwarnings('ignore:.*is not a size this model was trained on')  # expected off-bucket sizes
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
PROMPTS = ['a small red circle moving left', 'a large blue square moving up', '', 'a purple blob']


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp('tiny') / 'run'
    assert main(['train', '--preset', 'tiny', '--out', str(d)]) == 0
    return d


def labelled(good, bad):
    "The allowed and the refused values of one argument (None: the argument is left out)."
    return good, bad


def draw_args(data, space:dict) -> dict:
    "name -> (value, is_good): half the examples all good, the rest with one to three bad arguments."
    n_bad = data.draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]), label='bad arguments')
    bad = set(data.draw(st.permutations(sorted(space)), label='order')[:n_bad])
    return {k: (data.draw(st.sampled_from(space[k][k in bad]), label=k), k not in bad) for k in space}


GENERATE = dict(
    frames=labelled([None, '8', '16'], ['0', '-1', '3', '1000', 'x']),  # tiny: multiples of 4 up to 64
    height=labelled([None, '32', '64'], ['0', '30', '129', '4096']),
    width=labelled([None, '32', '64'], ['0', '36', '4096']),
    steps=labelled(['1', '2'], ['0', '1001', '1.5']),
    guidance=labelled([None, '0', '1', '3.5', '20'], ['nan', 'inf', '-0.5', '20.5']),
    scale=labelled([None, '1', '2'], ['0', '17']),
    seed=labelled([None, '0', '123'], ['-1']),
    sampler=labelled([None, 'ddim', 'ddpm'], ['euler']),
    suffix=labelled(['.npy', '.gif'], ['.avi', '']),
)


@SETTINGS
@given(prompt=st.sampled_from(PROMPTS), data=st.data())
def test_generate_works_iff_every_argument_is_allowed(capsys, tiny, prompt, data):
    args = draw_args(data, GENERATE)
    suffix, frames, height, width = (args.pop(k) for k in ('suffix', 'frames', 'height', 'width'))
    args.update(frames=frames, height=height, width=width)
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / f'clip{suffix[0]}'
        argv = ['generate', prompt, '--model', str(tiny), '-o', str(out)]
        for name, (value, _) in args.items():
            if value is not None: argv += [f'--{name}', value]
        code = main(argv)
        _, err = capsys.readouterr()
        good = all(ok for _, ok in args.values()) and suffix[1]
        if good:
            assert code == 0, (argv, err)
            assert all(line.startswith('warning: ') for line in err.splitlines()), err
            if out.suffix == '.npy':
                f, h, w, _ = np.load(out).shape
                assert (f, h, w) == (int(frames[0] or 16), int(height[0] or 32), int(width[0] or 32))
        else:
            assert code == 2, (argv, err)
            assert err.count('\n') == 1 and err.startswith('vidlab') and 'Traceback' not in err, err
            assert list(Path(d).iterdir()) == []


WORLD = dict(
    n=labelled(['1', '2'], ['0', '10001', 'two']),
    frames=labelled([None, '2', '8'], ['0', '1', '129']),
    height=labelled([None, '16', '24', '48'], ['8', '129']),
    width=labelled([None, '16', '40'], ['0', '4096']),
    formats=labelled(['npy', 'gif,npy', ' .NPY '], ['avi', '', 'npy,webm']),
    fps=labelled([None, '1', '60'], ['0', 'nan', '121']),
    split=labelled([None, 'train', 'heldout', 'all'], ['test']),
)


@SETTINGS
@given(data=st.data())
def test_world_works_iff_every_argument_is_allowed(capsys, data):
    args = draw_args(data, WORLD)
    n = args['n']
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / 'samples'
        argv = ['world', '--out', str(out)]
        for name, (value, _) in args.items():
            if value is not None: argv += [f'--{name}', value]
        code = main(argv)
        _, err = capsys.readouterr()
        if all(ok for _, ok in args.values()):
            assert (code, err) == (0, ''), (argv, err)
            lines = (out / 'captions.jsonl').read_text().splitlines()
            assert len(lines) == int(n[0]) and (out / 'contact_sheet.png').exists()
            assert not list(out.glob('.vidlab-*'))
        else:
            assert code == 2, (argv, err)
            assert err.count('\n') == 1 and 'Traceback' not in err, err
            assert not out.exists()  # nothing written, not even the folder


API_VALUES = st.one_of(st.none(), st.integers(-3, 200), st.sampled_from([0, 8, 16, 32, 64, 4096, 2.5, True, '8',
                                                                          float('nan'), float('inf'), -1e9]))


@SETTINGS
@given(num_frames=API_VALUES, height=API_VALUES, width=API_VALUES, steps=API_VALUES,
       guidance=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0, 1, 3, 20, True])),
       seed=st.one_of(st.none(), st.integers(0, 2**63 - 1), st.sampled_from([-1, [1], [1, 2], 2.5])))
def test_pipeline_works_or_raises_a_documented_error(tiny, num_frames, height, width, steps, guidance, seed):
    from vidlab.pipeline import TextToVideoPipeline
    pipe = _pipe(tiny)
    if isinstance(steps, int) and not isinstance(steps, bool) and steps > 3: steps = 3  # keep working cases fast
    try:
        out = pipe('a small red circle moving left', num_frames=num_frames, height=height, width=width,
                   num_inference_steps=steps, guidance_scale=guidance, seed=seed)
    except (ValueError, TypeError) as e:
        assert str(e), 'an error must say what was wrong'
        return
    c = pipe.config
    f, h, w, _ = out.frames.shape
    assert (f, h, w) == (num_frames or c.num_frames, height or c.height, width or c.width)
    assert np.isfinite(out.frames).all()


_PIPES = {}
def _pipe(path):
    from vidlab.pipeline import TextToVideoPipeline
    if path not in _PIPES: _PIPES[path] = TextToVideoPipeline.from_pretrained(path)
    return _PIPES[path]
