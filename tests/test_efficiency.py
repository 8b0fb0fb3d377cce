"Lesson 20 (efficiency): quantization bounds, pruning shapes, step-cache exactness, options as pipelines, encoding, thread policy."
import json, math, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
from torch import nn
from vidlab import efficiency as E
from vidlab.pipeline import TextToVideo, TextToVideoPipeline, TINY
from vidlab.evaluation import evaluate_pipeline

PROMPT = 'a small red circle moving left'


@pytest.fixture(scope='module')
def tiny():
    torch.set_num_threads(1)
    return TextToVideoPipeline(TextToVideo(TINY, seed=0), device='cpu')


@pytest.mark.parametrize('shape', [(7, 5), (4, 3, 3, 3), (2, 4, 1, 3, 3), (1, 1)])
def test_int8_round_trip_within_half_a_step(shape):
    w = torch.randn(shape, generator=torch.Generator().manual_seed(0)) * 10 ** torch.randn(shape[0], *[1] * (len(shape) - 1))
    q, s = E.quantize_int8(w)
    assert q.dtype == torch.int8 and q.shape == w.shape and s.shape == (shape[0],)
    assert q.abs().max() <= 127
    err = (E.dequantize_int8(q, s) - w).abs().flatten(1).amax(1)
    assert (err <= s / 2 + 1e-6 * s.clamp(min=1)).all()


def test_int8_zero_row_and_bad_shape():
    q, s = E.quantize_int8(torch.zeros(3, 4))
    assert (q == 0).all() and torch.isfinite(s).all()
    with pytest.raises(ValueError, match='output channels first'): E.quantize_int8(torch.ones(4))


@pytest.mark.parametrize('layer, x', [(nn.Linear(16, 8), torch.randn(3, 5, 16)), (nn.Conv2d(3, 6, 3, padding=1), torch.randn(2, 3, 8, 8)),
                                      (nn.Conv3d(3, 4, (1, 3, 3)), torch.randn(1, 3, 2, 6, 6))])
@pytest.mark.parametrize('dtype, tol', [('int8', 0.02), ('bf16', 0.01)])
def test_quantized_layer_close_to_float(layer, x, dtype, tol):
    with torch.no_grad():
        ref, out = layer(x), E.QuantizedLayer(layer, dtype)(x)
    assert out.shape == ref.shape
    assert (out - ref).norm() / ref.norm() < tol
    assert 'weight' in dict(layer.named_parameters())  # the original layer is left as it was


def test_int8pack_matches_dequantize():
    layer = nn.Linear(32, 24)
    x = torch.randn(2, 7, 32)
    with torch.no_grad():
        a = E.QuantizedLayer(layer)(x)
        b = E.QuantizedLayer(layer, kernel='int8pack')(x)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    errs = E.torch_int8_errors(layer, x[0])
    assert errs['ours_vs_int8pack'] < 1e-5 and errs['ours'] < errs['dynamic_w8a8']


def test_quantize_pipeline(tiny):
    q = E.quantize(tiny)
    n = sum(isinstance(m, E.QUANT_LAYERS) for m in tiny.model.modules())
    assert sum(isinstance(m, E.QuantizedLayer) for m in q.model.modules()) == n
    assert not any(isinstance(m, E.QuantizedLayer) for m in tiny.model.modules())  # a copy: the original is untouched
    assert E.model_bytes(q.model) < 0.4 * E.model_bytes(tiny.model)
    assert E.model_bytes(E.quantize(tiny, 'bf16').model) < 0.6 * E.model_bytes(tiny.model)
    a, b = tiny(PROMPT, seed=0, num_inference_steps=3).frames, q(PROMPT, seed=0, num_inference_steps=3).frames
    assert np.abs(a - b).mean() < 0.05
    only = E.quantize(tiny, parts='transformer')
    assert not any(isinstance(m, E.QuantizedLayer) for m in only.model.vae.modules())
    for bad, msg in [(dict(dtype='int4'), "'int8' or 'bf16'"), (dict(kernel='cuda'), 'kernel'), (dict(parts=['unet']), 'parts must be'),
                     (dict(parts=[]), 'parts must be')]:
        with pytest.raises(ValueError, match=msg): E.quantize(tiny, **bad)


def test_shipped_model_int8_bytes_target():
    pipe = TextToVideoPipeline.from_pretrained(device='cpu')
    assert E.model_bytes(E.quantize(pipe).model) <= 0.30 * E.model_bytes(pipe.model)


def test_magnitude_prune_exact_share():
    lin = E.magnitude_prune_(nn.Linear(20, 10), 0.3)
    assert (lin.weight == 0).float().mean().item() == pytest.approx(0.3)
    with pytest.raises(ValueError, match='sparsity'): E.magnitude_prune_(lin, 1.0)


def test_structured_prune_shapes_and_identity(tiny):
    full = E.prune(tiny)  # keeping every head and channel changes nothing
    np.testing.assert_allclose(full(PROMPT, seed=0, num_inference_steps=3).frames, tiny(PROMPT, seed=0, num_inference_steps=3).frames, atol=1e-5)
    slim = E.prune(tiny, heads=1, hidden=16)
    blk = slim.model.transformer.blocks[0]
    d = TINY.transformer['dim']
    e = d // TINY.transformer['heads']
    assert blk.heads == 1 and blk.qkv.weight.shape == (3 * e, d) and blk.kv.weight.shape == (2 * e, d)
    assert blk.proj.weight.shape == (d, e) and blk.mlp[0].weight.shape == (16, d) and blk.mlp[2].weight.shape == (d, 16)
    assert slim(PROMPT, seed=0, num_inference_steps=2).frames.shape == (16, 32, 32, 3)
    with pytest.raises(ValueError, match='heads must be'): E.prune(tiny, heads=3)
    with pytest.raises(ValueError, match='hidden must be'): E.prune(tiny, hidden=0)
    with pytest.raises(ValueError, match='refill'): E.prune(tiny, sparsity=0.5, finetune_steps=2)


def test_prune_finetune_runs_and_changes_weights(tiny):
    before = {k: v.clone() for k, v in tiny.model.state_dict().items()}
    slim = E.prune(tiny, heads=1, hidden=16)
    tuned = E.prune(tiny, heads=1, hidden=16, finetune_steps=3, n_latents=8, batch_size=4)
    w0, w1 = slim.model.transformer.blocks[0].mlp[0].weight, tuned.model.transformer.blocks[0].mlp[0].weight
    assert not torch.equal(w0, w1) and not w1.requires_grad and not tuned.model.training
    assert all(torch.equal(v, tiny.model.state_dict()[k]) for k, v in before.items())  # the source pipeline is not trained


def test_step_cache_threshold_zero_is_exact(tiny):
    exact = E.cached(tiny, 0.0)
    for steps in (1, 5):
        assert np.array_equal(exact(PROMPT, seed=3, num_inference_steps=steps).frames, tiny(PROMPT, seed=3, num_inference_steps=steps).frames)
        assert exact.stats == dict(full=steps, reused=0)  # counters restart with every call


def test_step_cache_reuses_and_shares_weights(tiny):
    loose = E.cached(tiny, 1e9)
    loose([PROMPT, 'a large blue square moving up'], seed=0, num_inference_steps=6)
    assert loose.stats == dict(full=1, reused=5)
    assert loose.model.transformer.dit is tiny.model.transformer and tiny.model.transformer.__class__.__name__ == 'VideoDiT'
    with pytest.raises(ValueError, match='threshold'): E.cached(tiny, -0.1)
    with pytest.raises(ValueError, match='threshold'): E.cached(tiny, float('nan'))


def test_tuned_pipeline_options(tiny):
    low = E.TunedPipeline(tiny, work_size=(8, 32, 32), num_inference_steps=2)
    out = low([PROMPT, PROMPT], seed=0)
    assert [f.shape for f in out.frames] == [(16, 32, 32, 3)] * 2
    assert 0 <= min(f.min() for f in out.frames) and max(f.max() for f in out.frames) <= 1
    ddpm = E.TunedPipeline(tiny, sampler='ddpm', num_inference_steps=2)
    assert np.array_equal(ddpm(PROMPT, seed=1).frames, tiny(PROMPT, seed=1, sampler='ddpm', num_inference_steps=2).frames)
    r = evaluate_pipeline(ddpm, n=2, batch_size=2)  # the evaluator takes a tuned pipeline
    assert set(r) == {'seen', 'held-out'}
    with pytest.raises(ValueError, match='unknown call defaults'): E.TunedPipeline(tiny, steps=3)
    with pytest.raises(ValueError, match='num_frames=6'): E.TunedPipeline(tiny, work_size=(6, 32, 32))


def test_upsample_video_shape_and_constant():
    v = np.full((4, 8, 8, 3), 0.25, np.float32)
    out = E.upsample_video(v, (16, 32, 32))
    assert out.shape == (16, 32, 32, 3) and np.allclose(out, 0.25)


def test_text_encoder_runs_once_per_video(tiny):
    assert E.text_encoder_calls(tiny, num_inference_steps=4) == 1


def test_encoding_cost_and_psnr():
    v = np.random.default_rng(0).random((4, 8, 8, 3)).astype(np.float32)
    assert E.clip_psnr(v, v) == pytest.approx(100.0)
    assert E.clip_psnr(np.zeros(3), np.full(3, 0.1)) == pytest.approx(20.0)
    gif, mp4 = E.encoding_cost(v, 'gif', scale=2), E.encoding_cost(v, 'h264', 20, scale=2)
    assert gif['bytes_per_second'] > 0 and mp4['bytes_per_second'] > 0 and mp4['psnr'] > 10
    for args, msg in [(('vp9',), "'h264' or 'gif'"), (('h264', None), 'qp from 0 to 51'), (('h264', 60), 'qp from 0 to 51')]:
        with pytest.raises(ValueError, match=msg): E.encoding_cost(v, *args)


def test_verdict_and_table(tmp_path):
    assert E.verdict(1.0, 0.0) == 'does not hold here'
    assert E.verdict(1.6, 2.0, need=1.5) == 'holds here'
    assert E.verdict(1.6, 2.5, need=1.5) == 'holds with a cost'
    path = tmp_path / 'r.json'
    E.update_results(path, [dict(part='caching', claim='c', setting='s', verdict='holds here')], dict(cache=[1]), command='x')
    res = E.update_results(path, [dict(part='baseline', claim='b', setting='s', verdict='holds here')], dict(steps=[2]))
    assert [r['part'] for r in res['rows']] == ['baseline', 'caching'] and set(res['curves']) == {'cache', 'steps'}
    res = E.update_results(path, [dict(part='caching', claim='c2', setting='s', verdict='holds here')])
    assert [r['claim'] for r in res['rows']] == ['b', 'c2'] and res['command'] == 'x'
    assert E.results_table(res['rows']).count('\n') == 3


def test_shipped_results_cover_every_claim():
    path = Path(E.__file__).parent / 'assets' / 'efficiency.json'
    res = json.loads(path.read_text())
    assert set(E.ROW_ORDER) <= {r['part'] for r in res['rows']}
    assert all(r['verdict'] in ('holds here', 'holds with a cost', 'does not hold here') for r in res['rows'])
    assert {'cache', 'steps', 'training', 'busy', 'encoding'} <= set(res['curves'])


def test_shipped_results_measure_the_shipped_model():
    "The rows were measured on the model that ships: its own step count is the baseline, its training log is quoted."
    assets = Path(E.__file__).parent / 'assets'
    res = json.loads((assets / 'efficiency.json').read_text())
    cfg = json.loads((assets / 'default' / 'config.json').read_text())
    log = json.loads((assets / 'default' / 'train_log.json').read_text())
    steps = cfg['num_inference_steps']
    rows = {r['part']: r for r in res['rows']}
    assert f'{steps} DDIM steps' in rows['baseline']['setting'] and f'instead of {steps} DDIM' in rows['steps']['setting']
    assert any(c['steps'] < steps for c in res['curves']['steps']['ddim'])  # the sweep goes below the baseline
    run = res['curves']['training']['shipped_run']
    assert run['seconds'] == log['seconds'] and run['steps'] == log['steps'] + log.get('base', {}).get('steps', 0)


def _policy(code, **env):
    "What `code` prints in a fresh process whose environment sets neither wait variable, plus `env`."
    env = {**{k: v for k, v in os.environ.items() if k not in ('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')}, **env}
    return subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, check=True).stdout.strip()


def test_import_vidlab_sets_passive_only_when_it_can():
    show = "import os; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    assert _policy('import vidlab; ' + show) == 'PASSIVE 20000'  # sleep after a short spin (about 0.2 ms)
    assert _policy(show) == 'None None'  # the helper's environment sets neither
    # never over the user's choice: either variable set leaves both as the user set them
    assert _policy('import vidlab; ' + show, OMP_WAIT_POLICY='ACTIVE') == 'ACTIVE None'
    assert _policy('import vidlab; ' + show, OMP_WAIT_POLICY='PASSIVE') == 'PASSIVE None'  # the old default, kept
    assert _policy('import vidlab; ' + show, GOMP_SPINCOUNT='300000') == 'None 300000'
    assert _policy('import vidlab; ' + show, OMP_WAIT_POLICY='ACTIVE', GOMP_SPINCOUNT='0') == 'ACTIVE 0'
    assert _policy('import torch, vidlab; ' + show) == 'None None'  # too late once libgomp is loaded: left alone
    first = (Path(E.__file__).parent / '__init__.py').read_text().splitlines()[0]
    assert first.startswith('__version__')


def test_cpu_load_starts_and_stops():
    with E.cpu_load(1) as procs:
        assert all(p.poll() is None for p in procs)
    assert all(p.poll() is not None for p in procs)


def test_pipeline_call_takes_cache(tiny):
    a = tiny(PROMPT, seed=2, num_inference_steps=4, cache=0.0).frames
    assert np.array_equal(a, tiny(PROMPT, seed=2, num_inference_steps=4).frames)
    b = tiny([PROMPT], seed=2, num_inference_steps=4, cache=1e9).frames
    assert len(b) == 1 and b[0].shape == a.shape
    with pytest.raises(ValueError, match='threshold'): tiny(PROMPT, cache=-1)


def test_step_flops_exact_and_peaks_measured():
    from vidlab.training import Learner
    mlp = nn.Sequential(nn.Linear(1, 32), nn.GELU(), nn.Linear(32, 32), nn.GELU(), nn.Linear(32, 1))
    learn = Learner(mlp, lambda m, b: m(b['x']).pow(2).mean(), lambda g: dict(x=torch.rand(64, 1, generator=g)), seed=0)
    state = learn.generator.get_state()
    fwd = 2 * 64 * (1 * 32 + 32 * 32 + 32 * 1)
    assert E.step_flops(learn) == 3 * fwd - 2 * 64 * 32  # backward = 2x forward, less layer 1's unneeded input gradient
    assert learn.step == 0 and torch.equal(learn.generator.get_state(), state)  # the learner is left as it was
    assert all(p.grad is None for p in mlp.parameters())
    assert E.matmul_peak_flops(n=128, repeats=2) > 0 and E.matmul_share_at(64, 32, 32, repeats=2) > 0


def test_structured_prune_joint_blocks():
    "A joint-attention block (no cross-attention layers) prunes by its self-attention output alone."
    from dataclasses import replace
    cfg = replace(TINY, transformer={**TINY.transformer, 'attention': 'full', 'text_attention': 'joint'})
    pipe = TextToVideoPipeline(TextToVideo(cfg, seed=0), device='cpu')
    slim = E.prune(pipe, heads=1, hidden=16)
    blk = slim.model.transformer.blocks[0]
    d = cfg.transformer['dim']
    assert blk.joint and blk.heads == 1 and blk.qkv.weight.shape == (3 * d // 2, d) and blk.kv.weight.shape == (d, d)
    assert slim('a red circle moving left', seed=0, num_inference_steps=2).frames.shape == (16, 32, 32, 3)
