"Property tests for the shapes world (vidlab.data): geometry, reproducibility, captions and VideoFolder round trips."
import json, math
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st, HealthCheck

from vidlab.core import save_video
from vidlab.data import (ATTRIBUTES, COLOURS, DIRECTIONS, HELD_OUT, SHAPES, SIZES, TRAVEL, VOCAB, CAPTIONS_FILE,
                         ShapesWorld, VideoFolder, caption, combinations, parse_caption, render_alpha)

torch.set_num_threads(1)
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**63 - 1)
indices = st.integers(0, 9_999)
frames_st = st.integers(2, 32)
sizes_st = st.integers(16, 64)
splits = st.sampled_from(['train', 'heldout', 'all'])


@FAST
@given(seed=seeds, index=indices, frames=frames_st, size=sizes_st, split=splits)
def test_object_stays_wholly_inside(seed, index, frames, size, split):
    ws = ShapesWorld(split, frames=frames, size=size, seed=seed)
    p = ws.params([index])
    attrs, start, vel = p['attrs'][0], p['start'][0], p['velocity'][0]
    r = SIZES[VOCAB['size'][attrs[2]]] * size / 2
    centres = start + torch.arange(frames)[:, None] * vel  # (f, 2)
    assert (centres - r >= -1e-3).all() and (centres + r <= size + 1e-3).all()
    travel = (vel * (frames - 1)).norm().item() / size
    assert TRAVEL[0] - 1e-5 <= travel <= TRAVEL[1] + 1e-5
    assert np.allclose(vel.sign().tolist(), np.sign(DIRECTIONS[VOCAB['direction'][attrs[3]]]))
    # Pixels: on a canvas padded all round, no coverage lands outside the frame
    pad = 4
    a = render_alpha(attrs[1:2], torch.tensor([2 * r]), centres[None] + pad, size + 2 * pad, size + 2 * pad)[0]
    inside = a[:, pad:-pad, pad:-pad].clone()
    assert a.sum() - inside.sum() <= 1e-3 * a.sum()
    a[:, pad:-pad, pad:-pad] = 0
    assert a.max() < 1e-4
    # and every frame shows the whole object's area (nothing cut off)
    v = ws[index]['video']
    np.testing.assert_allclose(v.amax(1).sum((1, 2)), inside.sum((1, 2)), rtol=1e-4, atol=1e-3)


@FAST
@given(seed=seeds, index=indices, frames=frames_st, size=sizes_st, split=splits, others=st.lists(indices, max_size=5))
def test_reproducible_from_seed_and_index(seed, index, frames, size, split, others):
    a = ShapesWorld(split, frames=frames, size=size, seed=seed)[index]
    b = ShapesWorld(split, frames=frames, size=size, seed=seed)
    batch = b.batch(others + [index] + others)
    assert torch.equal(batch['video'][len(others)], a['video'])  # independent of the batch around it
    assert batch['caption'][len(others)] == a['caption']
    # the same clip, whatever the resolution: same caption; its pixels are the same clip at another size
    c = ShapesWorld(split, frames=frames, size=64, seed=seed)[index]
    assert c['caption'] == a['caption']
    assert a['video'].shape == (frames, 3, size, size) and a['video'].dtype == torch.float32
    assert 0 <= a['video'].min() and a['video'].max() <= 1


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


@pytest.mark.parametrize('kw', [dict(size=15), dict(size=129), dict(frames=1), dict(split='val'), dict(size=32.0)])
def test_bad_geometry_is_refused(kw):
    with pytest.raises(ValueError): ShapesWorld(**kw)


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
    assert len(vf) == 3
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
