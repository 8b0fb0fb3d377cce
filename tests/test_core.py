"save_video round trips and safe checkpoints, beyond the notebook's examples."
import numpy as np, pytest, torch
from hypothesis import given, settings, strategies as st
from vidlab.core import (save_video, load_video, to_numpy_video, to_tensor_video, save_safetensors, load_safetensors,
                         check_tensors, remove_stale_temporaries, tensor_sha256, rng_states, set_rng_states)


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


def test_save_video_is_atomic(tmp_path, monkeypatch):
    "An encoder that dies leaves the previous file as it was, and nothing else behind."
    import mediapy
    p = save_video(_clip(), tmp_path / 'c.mp4')
    before = p.read_bytes()
    def broken(*args, **kwargs): raise RuntimeError('encoder died')
    monkeypatch.setattr(mediapy, 'compress_video', broken)
    with pytest.raises(RuntimeError, match='encoder died'): save_video(_clip(seed=1), p)
    assert p.read_bytes() == before and [q.name for q in tmp_path.iterdir()] == ['c.mp4']


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match='channels'): save_video(torch.rand(4, 2, 8, 8), tmp_path / 'x.npy')
    with pytest.raises(ValueError, match='NaN'): save_video(torch.full((4, 3, 8, 8), float('nan')), tmp_path / 'x.npy')
    with pytest.raises(ValueError, match='must end in'): save_video(_clip(), tmp_path / 'x.webm')
    (tmp_path / 'junk.mp4').write_bytes(b'not a video')
    with pytest.raises(ValueError, match=r'junk.mp4 is not a readable \.mp4 video'): load_video(tmp_path / 'junk.mp4')
    (tmp_path / 'empty.gif').write_bytes(b'')
    with pytest.raises(ValueError, match=r'empty.gif is not a readable \.gif video'): load_video(tmp_path / 'empty.gif')
    with pytest.raises(FileNotFoundError, match='no video at'): load_video(tmp_path / 'missing.mp4')


def test_corrupt_checkpoint(tmp_path):
    p = save_safetensors({'a': torch.ones(100)}, tmp_path / 'w.safetensors')
    p.write_bytes(p.read_bytes()[:-50])
    with pytest.raises(ValueError, match='truncated or corrupt'): load_safetensors(p)


def _flip(path, offset_from_end):
    blob = bytearray(path.read_bytes())
    blob[-offset_from_end] ^= 0x10
    path.write_bytes(bytes(blob))


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16, torch.int64, torch.float16])
def test_checksums_catch_a_flipped_byte_in_any_tensor(tmp_path, dtype):
    tensors = {'a': torch.arange(10).to(dtype), 'b': torch.ones(3, 4, dtype=dtype), 'step': torch.tensor(7)}
    p = save_safetensors(tensors, tmp_path / 'w.safetensors', metadata={'format': 'x'})
    back, meta = load_safetensors(p)
    assert meta == {'format': 'x'} and all(torch.equal(back[k], v) and back[k].dtype == v.dtype for k, v in tensors.items())
    n = len(p.read_bytes())
    for i in range(1, 9):  # the last tensor's bytes, one at a time
        q = tmp_path / f'f{i}.safetensors'
        q.write_bytes(p.read_bytes()); _flip(q, i)
        with pytest.raises(ValueError, match=rf'{q.name} is corrupt: tensors \[.*\] do not match their checksums'): load_safetensors(q)
    assert len(p.read_bytes()) == n


def test_checksum_edge_cases(tmp_path):
    from safetensors.torch import save_file
    with pytest.raises(ValueError, match="'vidlab.sha256' is reserved"):
        save_safetensors({'a': torch.ones(1)}, tmp_path / 'x.safetensors', metadata={'vidlab.sha256': 1})
    assert not (tmp_path / 'x.safetensors').exists()
    save_file({'a': torch.ones(2)}, str(tmp_path / 'plain.safetensors'), metadata={'k': '"v"'})
    t, m = load_safetensors(tmp_path / 'plain.safetensors')  # no checksums: loads (documented), unless required
    assert torch.equal(t['a'], torch.ones(2)) and m == {'k': 'v'}
    with pytest.raises(ValueError, match='plain.safetensors carries no checksums'):
        load_safetensors(tmp_path / 'plain.safetensors', require_checksum=True)
    with pytest.raises(FileNotFoundError, match='no checkpoint at'): load_safetensors(tmp_path / 'missing.safetensors')
    with pytest.raises(IsADirectoryError, match='is a folder'): load_safetensors(tmp_path)
    assert tensor_sha256(torch.zeros(())) == tensor_sha256(torch.zeros(1))  # the bytes, whatever the shape
    assert tensor_sha256(torch.zeros(2, dtype=torch.int32)) != tensor_sha256(torch.zeros(2, dtype=torch.int64))


def test_check_tensors_refuses_without_converting():
    want = {'w': torch.zeros(2, 3), 'n': ((), torch.int64)}
    check_tensors({'w': torch.ones(2, 3), 'n': torch.tensor(3)}, want)
    with pytest.raises(ValueError, match=r"^model.safetensors does not match the model's tensors: wrong dtypes: "
                                         r"w is torch.int32 where torch.float32 belongs$"):
        check_tensors({'w': torch.ones(2, 3, dtype=torch.int32), 'n': torch.tensor(3)}, want, 'model.safetensors')
    with pytest.raises(ValueError, match=r"missing \['n'\]; unexpected \['v'\]; wrong shapes: w is \(3,\) where \(2, 3\) belongs"):
        check_tensors({'w': torch.ones(3), 'v': torch.ones(1)}, want)


def test_stale_temporaries_only_of_that_file(tmp_path):
    target = tmp_path / 'checkpoint.safetensors'
    ours = [tmp_path / '.checkpoint.safetensors.a1.tmp', tmp_path / '.checkpoint.safetensors.b2.tmp']
    others = [tmp_path / '.other.safetensors.a1.tmp', tmp_path / 'checkpoint.safetensors.tmp', tmp_path / '.checkpoint.safetensors.a1']
    for p in ours + others: p.write_bytes(b'x')
    assert remove_stale_temporaries(target) == sorted(ours)
    assert all(p.exists() for p in others) and not any(p.exists() for p in ours)


def test_rng_states_round_trip_through_safetensors(tmp_path):
    "Every generator continues exactly, cached Gaussians included, after a save and load of its state."
    import random
    g = torch.Generator().manual_seed(5)
    random.gauss(0, 1); np.random.standard_normal()  # leave a cached second Gaussian in Python's and numpy's state
    tensors, _ = load_safetensors(save_safetensors(rng_states(g), tmp_path / 'rng.safetensors'))
    draw = lambda: (torch.rand(3, generator=g), torch.rand(3), np.random.standard_normal(2), random.gauss(0, 1))
    a = draw()
    set_rng_states(tensors, g)
    b = draw()
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and np.array_equal(a[2], b[2]) and a[3] == b[3]
