"The evaluator (vidlab.evaluation): every documented input layout and range, refusals with exact messages, no object, every clip size."
import numpy as np
import pytest
import torch

from vidlab.data import ShapesWorld, caption, combinations
from vidlab.evaluation import (LAYOUTS, NO_OBJECT, as_video_batch, degrade, describe, describe_batch, judge,
                               prompt_fidelity)

torch.set_num_threads(1)
SPECS = [caption(c) for c in combinations('all')]
TRUTH = ShapesWorld('all').render_batch(SPECS[::8], seed=0)  # 24 clips, one of each colour x shape
CLIP = TRUTH['video'][0]  # (f, 3, h, w) float in [0, 1]


def forms(clip):
    "Every documented form of one clip (name -> object), all meaning the same pixels."
    u8 = (clip * 255).round().to(torch.uint8)
    disp = clip.permute(0, 2, 3, 1).numpy()  # (f, h, w, 3)
    return {'torch float clip': clip, 'torch float batch': clip[None], 'torch float64': clip.double(),
            'torch float16': clip.half(), 'torch bfloat16': clip.bfloat16(), 'torch uint8 clip': u8,
            'torch uint8 batch': u8[None], 'numpy float clip': disp, 'numpy float batch': disp[None],
            'numpy uint8 clip': (disp * 255).round().astype(np.uint8), 'list of torch': [clip],
            'list of numpy uint8': [(disp * 255).round().astype(np.uint8)], 'tuple': (clip,),
            'slight overshoot': clip + 0.04 * (clip == 1) - 0.04 * (clip == 0)}


@pytest.mark.parametrize('name', list(forms(CLIP)))
def test_every_documented_form_reads_the_same(name):
    x = as_video_batch(forms(CLIP)[name])
    assert x.shape == (1, 16, 3, 32, 32) and x.dtype == torch.float32
    assert (x - CLIP[None]).abs().max() < 1 / 128  # bfloat16 has 8 bits of mantissa
    assert describe_batch(forms(CLIP)[name]) == [describe(CLIP)]


def test_ground_truth_as_uint8_scores_full_marks():
    u8 = (TRUTH['video'] * 255).round().to(torch.uint8)
    assert prompt_fidelity(u8, TRUTH['caption'])['all'] == 1.0
    assert prompt_fidelity(list(u8.permute(0, 1, 3, 4, 2).numpy()), TRUTH['caption'])['all'] == 1.0


@pytest.mark.parametrize('bad,message', [
    (CLIP * 2 - 1, 'video 0 holds floats from -1 to 1: vidlab reads floats in [0, 1] or uint8 in 0..255; they look like [-1, 1]: map them with (x + 1) / 2'),
    (CLIP[None] * 255, 'videos holds floats from 0 to 255: vidlab reads floats in [0, 1] or uint8 in 0..255; they look like 0..255: divide by 255 or convert to uint8'),
    ([CLIP * 255], 'video 0 holds floats from 0 to 255: vidlab reads floats in [0, 1] or uint8 in 0..255; they look like 0..255: divide by 255 or convert to uint8'),
    (CLIP[None] * 3 - 1, 'videos holds floats from -1 to 2: vidlab reads floats in [0, 1] or uint8 in 0..255; rescale them to [0, 1]'),
    ((CLIP * 255).long(), 'video 0 has dtype torch.int64: expected floats in [0, 1] or uint8 in 0..255'),
    ([], 'no videos given: expected ' + LAYOUTS),
    (torch.zeros(0, 16, 3, 32, 32), 'videos has shape (0, 16, 3, 32, 32): every dimension must be at least 1'),
    ('clip.mp4', 'videos is a str: expected ' + LAYOUTS),
    (torch.zeros(2, 16, 1, 32, 32), 'videos have 1 channels (shape (2, 16, 1, 32, 32)): expected 3 (RGB) in dim 2 of (b, f, c, h, w)'),
    (torch.zeros(3, 32, 32), 'video 0 has shape (3, 32, 32): a torch clip must be (f, c, h, w) or (1, f, c, h, w)'),
    ([CLIP, CLIP[:8]], 'clips differ in shape: [(8, 3, 32, 32), (16, 3, 32, 32)]; resize them first'),
    (torch.full((1, 16, 3, 32, 32), float('nan')), 'videos contains NaN or infinite values'),
])
def test_refused_inputs_say_what_and_what_is_allowed(bad, message):
    with pytest.raises(ValueError) as e: as_video_batch(bad)
    assert str(e.value) == message


@pytest.mark.parametrize('h,w', [(24, 24), (32, 32), (64, 64), (32, 64), (64, 32), (16, 16)])
def test_noise_and_flat_grey_are_no_object(h, w):
    g = torch.Generator().manual_seed(h * w)
    clips = [a * torch.rand(4, 3, h, w, generator=g) for a in (0.4, 0.5, 0.6, 0.8, 1.0)]
    clips += [torch.full((4, 3, h, w), a) for a in (0.36, 0.5, 0.8, 1.0)]
    clips += [(0.5 + 0.3 * torch.randn(4, 3, h, w, generator=g)).clamp(0, 1), torch.zeros(4, 3, h, w)]
    assert describe_batch(clips) == [NO_OBJECT] * len(clips)
    assert prompt_fidelity(clips, ['a large white square'] * len(clips))['all'] == 0.0
    assert prompt_fidelity(clips, ['a white'] * len(clips))['colour'] == 0.0


@pytest.mark.parametrize('prompt', ['', '   ', 'a moving', '!!!', 'the'])
def test_prompts_that_state_nothing_are_refused(prompt):
    with pytest.raises(ValueError) as e: prompt_fidelity(CLIP[None], [prompt])
    assert str(e.value) == (f'prompt {prompt!r} states no attribute, so no video could match or miss it: name at least '
                            'one colour, shape, size or direction, e.g. "a small red circle moving left"')


def test_unparseable_prompts_and_mismatches_are_refused():
    with pytest.raises(ValueError, match="unknown word 'purple'"): judge(CLIP[None], ['a purple circle'])
    with pytest.raises(ValueError, match='states two colours'): judge(CLIP[None], ['a red blue circle'])
    with pytest.raises(TypeError, match='a caption must be a str, got int'): judge(CLIP[None], [3])
    with pytest.raises(TypeError, match='prompts must be a list of strings'): judge(CLIP[None], 'a red circle')
    with pytest.raises(ValueError, match='1 videos but 2 prompts'): judge(CLIP[None], ['a red', 'a blue'])


@pytest.mark.parametrize('f,h,w', [(8, 24, 24), (16, 32, 32), (32, 64, 64), (16, 32, 64), (16, 64, 32)])
def test_ground_truth_is_described_at_every_size(f, h, w):
    world = ShapesWorld('all', frames=f, height=h, width=w)
    b = world.render_batch(SPECS, seed=1)
    seen = describe_batch(b['video'])
    assert [caption(s) for s in seen] == b['caption']  # all 192 combinations, exactly
    assert prompt_fidelity(degrade(b['video'], seed=1), b['caption'])['all'] >= 0.99
