"Temporal metrics on many real and corrupted clips, per-frame denoising and the ablation's machinery, beyond the notebook's examples."
import math, types

import pytest
import torch
from hypothesis import given, settings, strategies as st

from vidlab.data import ShapesWorld, combinations, caption
from vidlab.temporal import (corrupt, independent_frames, temporal_metrics, flicker, identity_persistence,
                             motion_smoothness, warp_error, object_track, fit_motion, PerFrame, CORRUPTIONS)

torch.set_num_threads(1)
WORLD = ShapesWorld('all', length=192)


def _real(seed, n=6):
    specs = [caption(c) for c in combinations('all')]
    g = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(specs), generator=g)[:n].tolist()
    return WORLD.render_batch([specs[i] for i in pick], seed=seed)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_real_clips_score_as_real(seed):
    m = temporal_metrics(_real(seed)['video'])
    assert torch.allclose(m['flicker'], torch.ones_like(m['flicker']), atol=0.03), m['flicker']
    assert (m['identity'] == 1).all(), m['identity']
    assert (m['smoothness'] < 0.1).all(), m['smoothness']
    assert (m['warp_error'] < 2e-3).all(), m['warp_error']


@pytest.mark.parametrize('kind', CORRUPTIONS + ('independent',))
def test_every_corruption_is_caught(kind):
    real = _real(3)
    v = independent_frames(real['caption'], seed=3) if kind == 'independent' else corrupt(real['video'], kind, seed=3)
    clean, bad = temporal_metrics(real['video']), temporal_metrics(v)
    assert (bad['flicker'] > 1.3).all(), bad['flicker']
    assert (bad['warp_error'] > 5 * clean['warp_error'].max()).all()
    if kind == 'colour': assert (bad['identity'] < 0.8).all()
    if kind in ('shuffle', 'jitter', 'independent'): assert (bad['smoothness'] > 0.5).all()


def test_known_velocity_and_missing_object():
    b = _real(5, n=3)
    _, v, _ = fit_motion(object_track(b['video']))
    assert torch.allclose(warp_error(b['video'], v), warp_error(b['video']))
    empty = torch.zeros(2, 8, 3, 32, 32)
    assert flicker(empty).isnan().all() and motion_smoothness(empty).isnan().all() and warp_error(empty).isnan().all()
    assert (identity_persistence(empty)['identity'] == 0).all()
    one = b["video"][:1].clone(); one[:, 8:] = 0  # the object vanishes half way
    assert identity_persistence(one)['identity'].item() == pytest.approx(0.5)


def tiny_model(patch_size=(1, 2, 2), seed=0):
    "An untrained tiny TextToVideo (lesson 12's TINY config) whose zero-initialised layers are perturbed, as if trained."
    from dataclasses import replace
    from vidlab.pipeline import TextToVideo, TINY
    m = TextToVideo(replace(TINY, transformer={**TINY.transformer, 'patch_size': patch_size}), seed=seed).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.transformer.parameters():
            if (p == 0).all() and p.ndim == 2: p.normal_(0, 0.05, generator=g)
    return m.requires_grad_(False)


def test_per_frame_pieces_do_not_talk():
    m = tiny_model(patch_size=(2, 2, 2))
    x = torch.randn(1, 4, m.vae.config.latent_channels, 8, 8, generator=torch.Generator().manual_seed(0))
    tb = m.tokenize(['a red circle'])  # the prompt through lesson 12's parts: tokenizer, text encoder, denoiser
    states, pooled = m.text_states(tb.input_ids, tb.attention_mask)
    ctx = m.transformer.encode_text(states, tb.attention_mask, pooled)
    pf = PerFrame(m.transformer)
    assert pf.frames == 2  # one tubelet deep
    out = pf(x, 500.0, context=ctx)
    x2 = x.clone(); x2[:, 0] += 1  # change the first piece only
    moved = (pf(x2, 500.0, context=ctx) - out).abs().amax((0, 2, 3, 4))
    assert moved[2:].max() == 0 and moved[:2].min() > 0
    with pytest.raises(ValueError, match='multiple of 2'): PerFrame(m.transformer, frames=3)


def test_generate_matches_the_pipeline_and_shared_noise_freezes():
    from vidlab.temporal import generate
    m = tiny_model()
    prompts = ['a small red circle moving right', 'a large blue square moving up']
    ours = generate(m, prompts[:1], seed=0, num_inference_steps=3)  # one prompt: the pipeline's noise is the same
    assert torch.allclose(ours, m.generate(prompts[:1], seed=0, num_inference_steps=3), atol=1e-5)
    assert torch.equal(generate(m, prompts, seed=1, num_inference_steps=2), generate(m, prompts, seed=1, num_inference_steps=2))
    seen, decode = [], m.decode_latents
    m.decode_latents = lambda z: seen.append(z) or decode(z)  # keep the sampled latents
    shared = generate(m, prompts, per_frame=True, shared_noise=True, seed=0, num_inference_steps=3)
    generate(m, prompts, per_frame=True, seed=0, num_inference_steps=3)
    assert shared.shape == (2, 16, 3, 32, 32)
    z_shared, z_indep = seen
    # per frame from shared noise: every latent frame is the same picture; from independent noise they differ
    assert torch.allclose(z_shared, z_shared[:, :1].expand_as(z_shared), atol=1e-5)
    assert (z_indep[:, 1:] - z_indep[:, :1]).abs().amax() > 0.1
    with pytest.raises(TypeError, match='list of strings'): generate(m, 'a red circle')


def test_ablation_trains_every_arm_with_the_one_training_step():
    from vidlab.temporal import AblationConfig, training_set, train_denoiser, ARMS
    m = tiny_model()
    data = training_set(m, 16, seed=0)
    assert len(data['states']) == int(data['text'].max()) + 2  # each caption once, the empty prompt last
    cfg = AblationConfig(steps=12, batch_size=4, clips=16, warmup=2)
    for arm in ARMS:
        dit, learn = train_denoiser(m, arm, data, cfg, seed=0)
        assert len(learn.history) == 12 and all(math.isfinite(h['loss']) for h in learn.history)
        assert not any(p.requires_grad for p in dit.parameters())
    with pytest.raises(ValueError, match='choose one of'): train_denoiser(m, 'image', data, cfg)
