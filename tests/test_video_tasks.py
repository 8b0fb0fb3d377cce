"""The joint sampler's guarantees and every video task, beyond the notebook's examples: exact where a task keeps what it
is given (on a tiny untrained model), and the property each task promises on the shipped model."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from vidlab.data import ShapesWorld
from vidlab.evaluation import describe_batch
from vidlab.samplers import DDIMScheduler, FlowMatchEulerScheduler, sample
from vidlab.temporal import object_track
from vidlab.video_tasks import (joint_sample, window_starts, extend, interpolate, storyboard, loop, video_to_video,
                                image_to_video, seam_ratio, track_error, long_clips, scene_list, SEAM_OK)
from test_temporal import tiny_model

torch.set_num_threads(1)
WORLD = ShapesWorld('all', length=192)


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


@pytest.fixture(scope='module')
def tiny(): return tiny_model()


@pytest.fixture(scope='module')
def clip(): return WORLD.render('a small red circle moving right', seed=0)['video']  # (16, 3, 32, 32)


def test_tasks_keep_what_they_are_given(tiny, clip):
    frames = clip.permute(0, 2, 3, 1).numpy()
    fwd = extend(tiny, clip, 'a red circle', frames=8, seed=0, num_inference_steps=3)
    bwd = extend(tiny, clip, 'a red circle', frames=12, backward=True, seed=0, num_inference_steps=3)
    assert fwd.shape == (24, 32, 32, 3) and (fwd[:16] == frames).all()
    assert bwd.shape == (28, 32, 32, 3) and (bwd[12:] == frames).all()
    mid = interpolate(tiny, clip[:8], clip[8:], 'a red circle', frames=8, seed=0, num_inference_steps=3)
    assert mid.shape == (24, 32, 32, 3) and (mid[:8] == frames[:8]).all() and (mid[16:] == frames[8:]).all()
    assert (loop(tiny, 'a', seed=1, num_inference_steps=2) == loop(tiny, 'a', seed=1, num_inference_steps=2)).all()


def test_video_to_video_strength_sets_how_much_survives(tiny, clip):
    near = video_to_video(tiny, clip, 'a blue circle', strength=0.04, seed=0, num_inference_steps=25)  # one last step
    far = video_to_video(tiny, clip, 'a blue circle', strength=1.0, seed=0, num_inference_steps=25)
    back = tiny.decode_latents(tiny.encode_video(clip[None]))[0].permute(0, 2, 3, 1).numpy()  # the VAE round trip
    assert np.abs(near - back).mean() < 0.5 * np.abs(far - back).mean()


def test_storyboard_takes_any_sequence_of_captions(tiny):
    class Scenes(list): "A list subclass of captions, as a planner returns."
    caps = ['a small red circle moving right', 'a small red circle moving down']
    ref = storyboard(tiny, caps, seed=0, num_inference_steps=2)
    assert ref.shape == (32, 32, 32, 3)
    for seq in (Scenes(caps), tuple(caps), iter(caps)):
        assert (storyboard(tiny, seq, seed=0, num_inference_steps=2) == ref).all()
    assert scene_list('a red circle') == ['a red circle']
    with pytest.raises(TypeError, match='caption strings'): storyboard(tiny, ['a red circle', None])
    with pytest.raises(TypeError, match='sequence of caption strings'): storyboard(tiny, 3)
    with pytest.raises(ValueError, match='empty'): storyboard(tiny, [])


def test_sizes_and_inputs_are_checked(tiny, clip):
    with pytest.raises(ValueError, match='multiple of 4'): extend(tiny, clip, 'a', frames=6)
    with pytest.raises(ValueError, match='multiple of 4'): storyboard(tiny, ['a'], frames_per_prompt=10)
    with pytest.raises(ValueError, match='multiple of 8'): extend(tiny_model(patch_size=(2, 2, 2)), clip, 'a', frames=4)
    with pytest.raises(ValueError, match='longer than a clip'): interpolate(tiny, clip[:4], clip[:4], 'a', context=8)
    with pytest.raises(ValueError, match=r'\(h, w, 3\)'): image_to_video(tiny, np.zeros((32, 32)), 'a')
    with pytest.raises(TypeError, match='TextToVideoPipeline'): extend(object(), clip, 'a')


@pytest.fixture(scope='module')
def pipe():
    from vidlab.pipeline import TextToVideoPipeline
    return TextToVideoPipeline.from_pretrained(device='cpu')


def test_image_to_video_starts_on_the_image(pipe):
    truth = long_clips(['a large green square moving up', 'a small orange triangle moving left'], frames=16, seed=2)
    outs = torch.stack([torch.as_tensor(image_to_video(pipe, t[0], p, seed=0, num_inference_steps=10)).permute(0, 3, 1, 2)
                        for t, p in zip(truth, ['a large green square moving up', 'a small orange triangle moving left'])])
    off = (object_track(outs[:, :1]) - object_track(truth[:, :1])).norm(dim=-1)[:, 0]
    assert (off < 1.5).all(), off  # the first frame's object sits where the image's does
    firsts = describe_batch(outs[:, :4])
    assert [(d['colour'], d['shape']) for d in firsts] == [('green', 'square'), ('orange', 'triangle')]


def test_loop_and_storyboard_joins_are_smooth(pipe):
    caps = ['a small red circle moving right', 'a small red circle moving left']
    looped = torch.as_tensor(loop(pipe, caps, seed=0, num_inference_steps=10)).permute(0, 3, 1, 2)[None]
    board = torch.as_tensor(storyboard(pipe, caps, seed=0, num_inference_steps=10)).permute(0, 3, 1, 2)[None]
    assert seam_ratio(looped).item() <= SEAM_OK  # the wrap-around is no rougher than an ordinary frame change
    assert seam_ratio(looped).item() < seam_ratio(board).item()  # without wrapping windows the end jumps to the start
    assert seam_ratio(board, at=16).item() <= SEAM_OK  # the cut between scenes is smooth too
    halves = describe_batch(torch.cat([board[:, :16], board[:, 16:]]))
    assert [h['direction'] for h in halves] == ['right', 'left']


def test_video_to_video_keeps_the_motion_and_follows_the_prompt(pipe):
    cases = [('a small red circle moving right', 'blue'), ('a large green square moving up', 'white'),
             ('a small red circle moving right', 'magenta'), ('a small green square moving up', 'yellow')]
    errors = []
    for cap, colour in cases:
        src = long_clips([cap], frames=16, seed=3)
        new = cap.replace(cap.split()[2], colour)
        out = torch.as_tensor(video_to_video(pipe, src[0], new, strength=0.4, seed=0,
                                             num_inference_steps=10)).permute(0, 3, 1, 2)[None]
        errors.append(track_error(out, src).item())
        seen = describe_batch(out)[0]
        assert (seen['colour'], seen['shape'], seen['direction']) == (colour, cap.split()[3], cap.split()[-1]), cap
    # where the object is and how it moves survive, usually: the shipped (bucketed) model redraws the small red circle
    # turned blue about 2 px higher up (2.02 px off its source track, just over the line; the other three 0.4 to 0.7 px;
    # lesson 16's benchmark: 69% of recolourings keep every attribute and the track within 2 px at strength 0.6)
    assert sum(e < 2.0 for e in errors) >= 3, errors


@pytest.mark.filterwarnings('error::UserWarning')  # a trained size warns about nothing
def test_every_task_runs_at_the_frame_size_it_is_given():
    "Lesson 14's buckets: a task takes its frame size from its clip, image or height/width, not the model's default."
    tiny = tiny_model()
    tiny.config.buckets = [[16, 32, 32], [8, 32, 64]]  # as if trained on a landscape bucket too
    wide = ShapesWorld('train', frames=8, height=32, width=64, seed=0).batch([0])['video'][0]  # (8, 3, 32, 64): a bucket
    kw = dict(seed=0, num_inference_steps=2)
    fwd = extend(tiny, wide, 'a red circle', frames=4, **kw)
    assert fwd.shape == (12, 32, 64, 3) and np.array_equal(fwd[:8], wide.permute(0, 2, 3, 1).numpy())
    assert image_to_video(tiny, wide[0], 'a red circle moving up', **kw).shape == (16, 32, 64, 3)
    assert interpolate(tiny, wide[:4], wide[-4:], 'a red circle', frames=4, **kw).shape == (12, 32, 64, 3)
    assert video_to_video(tiny, wide, 'a blue circle', **kw).shape == (8, 32, 64, 3)
    assert storyboard(tiny, ['a red circle'], height=32, width=64, **kw).shape == (16, 32, 64, 3)
    assert loop(tiny, ['a red circle'], height=32, width=64, **kw).shape == (16, 32, 64, 3)
    with pytest.warns(UserWarning, match='not a size this model was trained on'):
        extend(tiny, torch.zeros(8, 3, 48, 48), 'a red circle', frames=4, **kw)
    with pytest.raises(ValueError, match='multiple of 8'): video_to_video(tiny, torch.zeros(8, 3, 36, 32), 'a')
    with pytest.raises(ValueError, match='height=0 is out of range: allowed are 1 to 128'): storyboard(tiny, ['a'], height=0)
    with pytest.raises(ValueError, match='one frame size'): interpolate(tiny, wide[:4], torch.zeros(4, 3, 32, 32), 'a')


def test_tasks_sample_each_size_with_its_shift():
    "A model with size_shift (lesson 7) samples a task's windows with the shift of their size, as the pipeline does."
    tiny = tiny_model()
    tiny.config.size_shift = True
    sizes, make = [], tiny.make_scheduler
    tiny.make_scheduler = lambda sampler='ddim', size=None: sizes.append(size) or make(sampler, size)
    wide = ShapesWorld('train', frames=8, height=32, width=64, seed=0).batch([0])['video'][0]  # (8, 3, 32, 64)
    with pytest.warns(UserWarning, match='not a size this model was trained on'):
        video_to_video(tiny, wide, 'a blue circle', seed=0, num_inference_steps=2)
    storyboard(tiny, ['a red circle'], seed=0, num_inference_steps=2)
    assert sizes == [None, (8, 32, 64), None, (16, 32, 32)]  # the sampler checked first; then each window's size
    assert make('ddim', (8, 32, 64)).config.shift == 3.0 and make('ddim', (16, 64, 64)).config.shift == 6.0
