"Property tests for the shapes world (vidlab.data): geometry at every size, reproducibility, captions, limits and VideoFolder round trips."
import json, math
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st, HealthCheck

from vidlab.core import save_video
from vidlab.data import (ATTRIBUTES, COLOURS, DIRECTIONS, HELD_OUT, SHAPES, SIZES, TRAVEL, TRAVEL_SIDES, VOCAB, CAPTIONS_FILE,
                         ShapesWorld, VideoFolder, caption, combinations, parse_caption, render_alpha, render_clips,
                         frame_size, resize_video)

torch.set_num_threads(1)
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**63 - 1)
indices = st.integers(0, 9_999)
frames_st = st.integers(2, 32)
sizes_st = st.integers(16, 64)
splits = st.sampled_from(['train', 'heldout', 'all'])
V1_FINGERPRINTS = {  # `fingerprint` of the first 256 clips: v1's pixels, which the defaults must never change
    ('train', 0): [546593.824, 497726.836, 258.846], ('train', 1): [545273.683, 492892.511, 50.699],
    ('heldout', 0): [583809.468, 534300.051, 516.572], ('heldout', 1): [585736.426, 529554.325, -568.282],
    ('all', 0): [560493.47, 509831.024, -858.899], ('all', 1): [537016.407, 485162.663, -284.497]}
PIXEL_TOL = 0.01  # another CPU's vector maths moves the sums by ~1e-4; one pixel changed by 0.01 moves them by about that


def fingerprint(t):
    """The sum, the sum of squares and a fixed random projection of a tensor's values (float64). Not a hash of the
    float32 bytes: those differ between CPUs in the last bit (SHA-256 of the same clips changed on an AMD EPYC host)."""
    x = t.detach().flatten().double()
    r = torch.randn(x.numel(), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return [x.sum().item(), x.square().sum().item(), (r @ x).item()]


def same_pixels(t, want): return fingerprint(t) == pytest.approx(want, abs=PIXEL_TOL)


@pytest.mark.parametrize('split,seed', list(V1_FINGERPRINTS))
def test_default_clips_are_v1_pixels(split, seed):
    assert same_pixels(ShapesWorld(split, seed=seed).batch(range(256))['video'], V1_FINGERPRINTS[split, seed])


def test_v1_pixels_at_other_square_sizes_and_spellings():
    assert same_pixels(ShapesWorld('all', frames=24, size=64).batch(range(64))['video'], [802368.18, 754050.592, 238.938])
    assert same_pixels(ShapesWorld('all', frames=8, height=16, width=16).batch(range(64))['video'], [16864.872, 14146.864, -21.734])
    assert same_pixels(ShapesWorld().render_batch(['a large cyan triangle moving up', 'a red', dict(shape='square')],
                                                  seed=3)['video'], [5781.786, 5311.867, 60.295])
    args = torch.tensor([0, 7]), torch.tensor([2, 0]), torch.tensor([1, 0]), torch.tensor([[10., 16.], [16., 24.]]), \
        torch.tensor([[1., 0.], [0., -1.]])
    assert same_pixels(render_clips(*args, 8), [1184.414, 1010.708, -41.517])
    assert torch.equal(render_clips(*args, 8, 32), render_clips(*args, 8, height=32, width=32))  # size is positional 7th


@FAST
@given(seed=seeds, index=indices, frames=frames_st, h=sizes_st, w=sizes_st, split=splits, rule=st.sampled_from(TRAVEL_SIDES))
def test_object_stays_wholly_inside(seed, index, frames, h, w, split, rule):
    ws = ShapesWorld(split, frames=frames, height=h, width=w, seed=seed, travel=rule)
    p = ws.params([index])
    attrs, start, vel = p['attrs'][0], p['start'][0], p['velocity'][0]
    r = SIZES[VOCAB['size'][attrs[2]]] * min(h, w) / 2  # sizes are shares of the shorter side
    centres = start + torch.arange(frames)[:, None] * vel  # (f, 2)
    assert (centres - r >= -1e-3).all() and (centres + r <= torch.tensor([w, h]) + 1e-3).all()
    axis = min(h, w) if rule == 'shorter' else w if vel[0] != 0 else h  # travel is a share of the side moved along, or of the shorter
    travel = (vel * (frames - 1)).norm().item() / axis
    assert TRAVEL[0] - 1e-5 <= travel <= TRAVEL[1] + 1e-5
    assert np.allclose(vel.sign().tolist(), np.sign(DIRECTIONS[VOCAB['direction'][attrs[3]]]))
    # Pixels: on a canvas padded all round, no coverage lands outside the frame
    pad = 4
    a = render_alpha(attrs[1:2], torch.tensor([2 * r]), centres[None] + pad, h + 2 * pad, w + 2 * pad)[0]
    inside = a[:, pad:-pad, pad:-pad].clone()
    assert a.sum() - inside.sum() <= 1e-3 * a.sum()
    a[:, pad:-pad, pad:-pad] = 0
    assert a.max() < 1e-4
    # and every frame shows the whole object's area (nothing cut off)
    v = ws[index]['video']
    np.testing.assert_allclose(v.amax(1).sum((1, 2)), inside.sum((1, 2)), rtol=1e-4, atol=1e-3)


@FAST
@given(seed=seeds, index=indices, frames=frames_st, h=sizes_st, w=sizes_st, split=splits, others=st.lists(indices, max_size=5))
def test_reproducible_from_seed_and_index(seed, index, frames, h, w, split, others):
    a = ShapesWorld(split, frames=frames, height=h, width=w, seed=seed)[index]
    b = ShapesWorld(split, frames=frames, height=h, width=w, seed=seed)
    batch = b.batch(others + [index] + others)
    assert torch.equal(batch['video'][len(others)], a['video'])  # independent of the batch around it
    assert batch['caption'][len(others)] == a['caption']
    assert a['video'].shape == (frames, 3, h, w) and a['video'].dtype == torch.float32
    assert 0 <= a['video'].min() and a['video'].max() <= 1
    # the same clip at twice the resolution: same caption, and the same pixels once averaged back down
    c = ShapesWorld(split, frames=frames, height=2 * h, width=2 * w, seed=seed)[index]
    assert c['caption'] == a['caption']
    assert (F.avg_pool2d(c['video'], 2) - a['video']).abs().mean() < 0.01


@FAST
@given(seed=seeds, index=indices)
def test_splits_respect_held_out(seed, index):
    tr, ho = ShapesWorld('train', seed=seed)[index], ShapesWorld('heldout', seed=seed)[index]
    assert (tr['colour'], tr['shape'], tr['direction']) not in HELD_OUT
    assert (ho['colour'], ho['shape'], ho['direction']) in HELD_OUT


def test_held_out_is_one_in_six_and_pairs_survive():
    assert len(set(HELD_OUT)) == 16 and len(combinations('heldout')) == 32 and len(combinations('train')) == 160
    train = combinations('train')
    for a in ATTRIBUTES:
        for b in ATTRIBUTES:
            if a < b: assert len({(c[a], c[b]) for c in train}) == len(VOCAB[a]) * len(VOCAB[b])


@FAST
@given(attrs=st.fixed_dictionaries({k: st.sampled_from(VOCAB[k]) for k in ATTRIBUTES}),
       upper=st.lists(st.booleans(), min_size=8, max_size=8), punct=st.sampled_from(['', '!', ',', '.', '?!']))
def test_caption_round_trip_tolerant(attrs, upper, punct):
    c = caption(attrs)
    assert c == f"a {attrs['size']} {attrs['colour']} {attrs['shape']} moving {attrs['direction']}"
    words = [w.upper() if u else w for w, u in zip(c.split(), upper)]
    assert parse_caption((punct + ' ').join(words) + punct) == attrs


@pytest.mark.parametrize('bad', ['a purple circle', 'a red circle moving sideways', 'a red blue square'])
def test_parse_caption_errors(bad):
    with pytest.raises(ValueError, match='Allowed words|two'): parse_caption(bad)


@pytest.mark.parametrize('kw,message', [
    (dict(size=15), 'height=15 is not allowed: use an int from 16 to 128 pixels'),
    (dict(size=129), 'height=129 is not allowed'), (dict(width=8), 'width=8 is not allowed'),
    (dict(height=32.0), 'height=32.0 is not allowed'), (dict(size=32, height=32), 'not both'),
    (dict(frames=1), 'frames=1 is not allowed: use an int from 2 to 128'), (dict(frames=0), 'frames=0 is not allowed'),
    (dict(split='val'), 'choose one of train, heldout, all'), (dict(length=0), 'length must be a positive int')])
def test_bad_geometry_is_refused(kw, message):
    with pytest.raises(ValueError, match=message.replace('(', r'\(')): ShapesWorld(**kw)


@pytest.mark.parametrize('f,h,w,most', [(16, 32, 32, 21_845), (32, 64, 64, 2_730), (16, 32, 64, 10_922)])
def test_clip_counts_are_checked_before_any_work(f, h, w, most):
    ws = ShapesWorld(frames=f, height=h, width=w, length=10**9)
    for call in (lambda: ws.batch(range(most + 1)), lambda: ws.render_batch(['a red circle'] * (most + 1)),
                 lambda: ws.batch(range(10**9))):
        with pytest.raises(ValueError, match=f'1 to {most:,} clips of {f}x{h}x{w}'): call()
    with pytest.raises(ValueError, match='cannot render 0 clips'): ws.render_batch([])
    with pytest.raises(ValueError, match='non-empty'): ws.batch([])


@pytest.mark.parametrize('f,h,w', [(8, 24, 24), (16, 32, 32), (32, 64, 64), (16, 32, 64), (16, 64, 32)])
def test_every_size_renders_readable_clips(f, h, w):
    ws = ShapesWorld('all', frames=f, height=h, width=w)
    b = ws.batch(range(64))
    assert b['video'].shape == (64, f, 3, h, w)
    areas = b['video'].amax(2).sum((2, 3))  # (b, f) object area in pixels, per frame
    side = min(h, w) * torch.tensor([SIZES[s] for s in b['size']])
    square = torch.tensor([s == 'square' for s in b['shape']])
    assert torch.allclose(areas[square], (side[square] ** 2)[:, None].expand(-1, f), rtol=1e-4)  # exact for squares
    assert b['caption'] == ShapesWorld('all').batch(range(64))['caption']  # same clips as at the default size


def test_frame_size_resolution():
    assert frame_size() == (32, 32) and frame_size(48) == (48, 48) and frame_size(height=24) == (24, 24)
    assert frame_size(height=32, width=64) == (32, 64) and frame_size(width=64) == (32, 64)


def _write_folder(root, clips):
    with open(root / CAPTIONS_FILE, 'w') as fh:
        for name, item in clips.items():
            save_video(item['video'], root / name)
            fh.write(json.dumps(dict(file=name, caption=item['caption'])) + '\n')


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 1000), frames=st.integers(4, 24), size=st.sampled_from([16, 32, 48]))
def test_video_folder_round_trip_npy(tmp_path, seed, frames, size):
    ws = ShapesWorld('all', frames=frames, size=size, seed=seed)
    root = tmp_path / f'{seed}_{frames}_{size}'; root.mkdir()
    _write_folder(root, {f'c{i}.npy': ws[i] for i in range(3)})
    vf = VideoFolder(root, frames=frames, size=size)
    assert len(vf) == 3 and (vf.height, vf.width) == (size, size)
    for i in range(3):  # same frames and size: exact
        assert torch.allclose(vf[i]['video'], ws[i]['video'], atol=1e-6) and vf[i]['caption'] == ws[i]['caption']
    small = VideoFolder(root, frames=8, size=16)[0]['video']
    assert small.shape == (8, 3, 16, 16) and 0 <= small.min() and small.max() <= 1


@pytest.mark.parametrize('ext', ['.gif', '.mp4'])
def test_video_folder_round_trip_lossy(tmp_path, ext):
    src, ref = ShapesWorld('all', frames=16, size=64), ShapesWorld('all', frames=16, size=32)
    _write_folder(tmp_path, {f'c{i}{ext}': src[i] for i in range(2)})
    vf = VideoFolder(tmp_path)  # 64 px -> 32 px
    for i in range(2):
        x = vf[i]
        assert x['video'].shape == (16, 3, 32, 32) and x['caption'] == src[i]['caption']
        assert (x['video'] - ref[i]['video']).abs().mean() < 0.05


def test_video_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='captions.jsonl'): VideoFolder(tmp_path)
    (tmp_path / CAPTIONS_FILE).write_text(json.dumps(dict(file='x.avi', caption='a red circle')) + '\n')
    with pytest.raises(ValueError, match='.mp4, .gif, .npy'): VideoFolder(tmp_path)
    (tmp_path / CAPTIONS_FILE).write_text(json.dumps(dict(file='gone.npy', caption='a red circle')) + '\n')
    with pytest.raises(FileNotFoundError, match='does not exist'): VideoFolder(tmp_path)
    (tmp_path / CAPTIONS_FILE).write_text('{"file": "a.npy"\n')
    with pytest.raises(ValueError, match='not valid JSON'): VideoFolder(tmp_path)
    (tmp_path / CAPTIONS_FILE).write_text(json.dumps(dict(file='a.npy')) + '\n')
    with pytest.raises(ValueError, match='"file" and "caption"'): VideoFolder(tmp_path)


def test_video_folder_non_square(tmp_path):
    ws = ShapesWorld('all', frames=8, height=32, width=64)
    _write_folder(tmp_path, {f'c{i}.npy': ws[i] for i in range(2)})
    assert torch.allclose(VideoFolder(tmp_path, frames=8, height=32, width=64)[1]['video'], ws[1]['video'], atol=1e-6)
    assert torch.equal(VideoFolder(tmp_path, frames=8, size=32)[0]['video'], ws[0]['video'][..., 16:48])  # centre crop
    portrait = VideoFolder(tmp_path, frames=4, height=32, width=16)[0]['video']
    assert portrait.shape == (4, 3, 32, 16)
    assert torch.equal(resize_video(ws[0]['video'], 8, 32, 16), resize_video(ws[0]['video'][..., 24:40], 8, 32, 16))
