"Temporal metrics on many real and corrupted clips, and the joint sampler's guarantees, beyond the notebook's examples."
import math, types

import pytest
import torch
from hypothesis import given, settings, strategies as st

from vidlab.data import ShapesWorld, combinations, caption
from vidlab.diffusion import DDIMScheduler, FlowMatchEulerScheduler, sample
from vidlab.temporal import (corrupt, independent_frames, temporal_metrics, flicker, identity_persistence,
                             motion_smoothness, warp_error, object_track, fit_motion, joint_sample, window_starts,
                             PerFrame, CORRUPTIONS)

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


@pytest.mark.parametrize('make', [DDIMScheduler, FlowMatchEulerScheduler])
def test_one_window_is_the_plain_sampler(make):
    fn = lambda x, t, c: torch.sin(x + t.view(-1, 1, 1, 1, 1) / 1000)
    shape = (2, 4, 2, 3, 3)
    x_T = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    ours = joint_sample(fn, make(), shape, num_inference_steps=7, latents=x_T)
    ref = sample(lambda x, t: fn(x, t, None), make(), shape, 7, latents=x_T)
    assert torch.equal(ours, ref)


@settings(max_examples=10, deadline=None)
@given(frames=st.integers(4, 12), window=st.integers(1, 4), stride=st.integers(1, 3), circular=st.booleans())
def test_windows_cover_every_frame(frames, window, stride, circular):
    if stride > window:
        with pytest.raises(ValueError, match='stride <= window'): window_starts(frames, window, stride, circular)
        return
    starts = window_starts(frames, window, stride, circular)
    covered = {(s + i) % frames for s in starts for i in range(window)}
    assert covered == set(range(frames))
    if not circular: assert max(starts) + window == frames


def test_known_frames_are_kept_and_windows_agree_with_one_call():
    fn = lambda x, t, c: 0.1 * x  # acts per frame: windows and one call must give the same result
    shape = (1, 6, 1, 2, 2)
    one = joint_sample(fn, DDIMScheduler(), shape, num_inference_steps=5, seed=0)
    win = joint_sample(fn, DDIMScheduler(), shape, window=4, num_inference_steps=5, seed=0)
    assert torch.allclose(one, win, atol=1e-6)
    known = torch.randn(shape)
    mask = torch.tensor([[True, True, False, False, False, True]])
    out = joint_sample(fn, DDIMScheduler(), shape, window=4, num_inference_steps=5, known=known, known_mask=mask, seed=0)
    assert torch.equal(out[mask], known[mask])


class _Bundle:
    "The parts of a TextToVideo bundle the temporal functions use: tiny, untrained, with 4-frame-deep tubelets."
    def __init__(self):
        import zlib
        from vidlab.dit import VideoDiT, DiTConfig
        from vidlab.vae import build_vae, vae_config
        self.transformer = VideoDiT(DiTConfig(dim=32, depth=2, heads=2, text_dim=16, patch_size=(4, 4, 4)), seed=0).eval()
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in self.transformer.parameters():
                if (p == 0).all() and p.ndim == 2: p.normal_(0, 0.05, generator=g)
        self.vae = build_vae(vae_config('frame', patch_size=2, widths=(8,), blocks=1)).eval()
        self.config = types.SimpleNamespace(frames=16, size=32, guidance_scale=2.0, num_inference_steps=3)
        self._crc, self._emb = zlib.crc32, torch.randn(97, 16, generator=g)
    def tokenize(self, prompts):  # one id per word, hashed; TokenBatch-like
        ids = torch.tensor([[self._crc(w.encode()) % 96 + 1 for w in (p.split() + [''] * 3)[:3]] for p in prompts])
        return types.SimpleNamespace(input_ids=ids, attention_mask=(ids > 0).long(), to=lambda device: self.tokenize(prompts))
    def text_states(self, input_ids, attention_mask):
        s = self._emb[input_ids]
        return s, s.mean(1)
    def make_scheduler(self, sampler='ddim'): return DDIMScheduler(clip_sample=False)


@pytest.fixture(scope='module')
def bundle(): return _Bundle()


def test_capabilities_keep_what_is_known(bundle):
    from vidlab.temporal import extend, interpolate, storyboard, loop, video_to_video, image_to_video, generate
    clip = WORLD.render('a small red circle moving right', seed=0)['video']  # (16, 3, 32, 32)
    frames = clip.permute(0, 2, 3, 1).numpy()
    fwd = extend(bundle, clip, 'a red circle', frames=8, seed=0)
    bwd = extend(bundle, clip, 'a red circle', frames=12, backward=True, seed=0)
    assert fwd.shape == (24, 32, 32, 3) and (fwd[:16] == frames).all()
    assert bwd.shape == (28, 32, 32, 3) and (bwd[12:] == frames).all()
    mid = interpolate(bundle, clip[:8], clip[8:], 'a red circle', frames=8, seed=0)
    assert mid.shape == (24, 32, 32, 3) and (mid[:8] == frames[:8]).all() and (mid[16:] == frames[8:]).all()
    assert storyboard(bundle, ['a', 'b'], seed=1).shape == (32, 32, 32, 3)
    assert (loop(bundle, 'a', seed=1) == loop(bundle, 'a', seed=1)).all()  # same seed, same loop
    assert video_to_video(bundle, clip, 'a blue circle', seed=0).shape == (16, 32, 32, 3)
    assert image_to_video(bundle, frames[0], 'a red circle moving right', seed=0).shape == (16, 32, 32, 3)
    assert generate(bundle, ['a', 'b'], per_frame=True, shared_noise=True, seed=0).shape == (2, 16, 3, 32, 32)
    with pytest.raises(ValueError, match='multiple of 4'): extend(bundle, clip, 'a', frames=6)
    with pytest.raises(ValueError, match='multiple of 4'): storyboard(bundle, ['a'], frames_per_prompt=10)
    with pytest.raises(TypeError, match='TextToVideoPipeline'): extend(object(), clip, 'a')
