"save_video round trips and safe checkpoints, beyond the notebook's examples."
import numpy as np, pytest, torch
from hypothesis import given, settings, strategies as st
from vidlab.core import save_video, load_video, to_numpy_video, to_tensor_video, save_safetensors, load_safetensors


def _clip(f=8, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, 3, 1, 1, generator=g)  # one colour per clip, smooth content survives lossy codecs
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing='ij')
    masks = torch.stack([((xx - 4 - i).abs() < size // 6) & ((yy - size // 2).abs() < size // 6) for i in range(f)])
    return masks[:, None].float() * base


@pytest.mark.parametrize('suffix,tol', [('.npy', 0.0), ('.gif', 0.06), ('.mp4', 0.06)])
def test_round_trip(tmp_path, suffix, tol):
    clip = _clip()
    back = load_video(save_video(clip, tmp_path / f'c{suffix}'))
    assert back.shape == (8, 32, 32, 3) and back.dtype == np.float32
    assert np.abs(back - to_numpy_video(clip)).mean() <= tol


def test_scaled_mp4_and_uint8(tmp_path):
    frames = (to_numpy_video(_clip()) * 255).astype(np.uint8)
    back = load_video(save_video(frames, tmp_path / 'big.mp4', scale=2))
    assert back.shape == (8, 64, 64, 3)


@settings(max_examples=20, deadline=None)
@given(f=st.integers(1, 6), h=st.integers(1, 12), w=st.integers(1, 12), seed=st.integers(0, 10**6))
def test_npy_exact_and_layout_inverse(tmp_path_factory, f, h, w, seed):
    clip = torch.rand(f, 3, h, w, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(to_tensor_video(to_numpy_video(clip)), clip)
    p = tmp_path_factory.mktemp('v') / 'c.npy'
    assert torch.equal(to_tensor_video(load_video(save_video(clip, p))), clip)


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match='channels'): save_video(torch.rand(4, 2, 8, 8), tmp_path / 'x.npy')
    with pytest.raises(ValueError, match='NaN'): save_video(torch.full((4, 3, 8, 8), float('nan')), tmp_path / 'x.npy')
    with pytest.raises(ValueError, match='must end in'): save_video(_clip(), tmp_path / 'x.webm')
    (tmp_path / 'junk.mp4').write_bytes(b'not a video')
    with pytest.raises(Exception): load_video(tmp_path / 'junk.mp4')


def test_corrupt_checkpoint(tmp_path):
    p = save_safetensors({'a': torch.ones(100)}, tmp_path / 'w.safetensors')
    p.write_bytes(p.read_bytes()[:-50])
    with pytest.raises(ValueError, match='truncated or corrupt'): load_safetensors(p)
