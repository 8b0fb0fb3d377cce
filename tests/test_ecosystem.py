"vidlab <-> diffusers/transformers round trips: a folder vidlab writes loads with the libraries' own classes, and back."
import json
import pytest
import torch
from vidlab.pipeline import TextToVideo, TINY
from vidlab.ecosystem import (DiffusersTextToVideoPipeline, DiffusersVideoDiT, DiffusersVideoVAE, DiffusersTextEncoder,
                              save_diffusers, load_diffusers, scheduler_by_name)

PROMPT = 'a small red circle moving left'


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    model = TextToVideo(TINY, seed=0)
    return model, save_diffusers(model, tmp_path_factory.mktemp('pipe') / 'pipe')


def test_parts_load_with_the_libraries_own_classes(folder):
    import diffusers, transformers
    model, path = folder
    index = json.loads((path / 'model_index.json').read_text())
    assert index['_class_name'] == 'DiffusersTextToVideoPipeline' and index['vidlab_config']['objective'] == 'flow'
    sched = diffusers.FlowMatchEulerDiscreteScheduler.from_pretrained(path / 'scheduler')
    assert sched.config.shift == model.config.scheduler['shift']
    tok = transformers.AutoTokenizer.from_pretrained(path / 'tokenizer')
    assert tok(PROMPT)['input_ids'] == model.tokenizer.encode([PROMPT]).input_ids[0][:8].tolist()
    for cls, part in [(DiffusersVideoDiT, 'transformer'), (DiffusersVideoVAE, 'vae'), (DiffusersTextEncoder, 'text_encoder')]:
        loaded = cls.from_pretrained(path / part, low_cpu_mem_usage=False)  # diffusers' ModelMixin.from_pretrained
        ours = getattr(model, part).state_dict()
        assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in ours.items()), part


def test_round_trip_gives_the_same_video(folder):
    model, path = folder
    back = load_diffusers(path)
    a = model.generate([PROMPT], num_inference_steps=3, seed=1)
    assert torch.equal(back.generate([PROMPT], num_inference_steps=3, seed=1), a)
    pipe = DiffusersTextToVideoPipeline.from_pretrained(path, low_cpu_mem_usage=False)
    assert torch.allclose(pipe(PROMPT, num_inference_steps=3, seed=1), a, atol=1e-5)


def test_the_pipeline_takes_a_size_and_refuses_bad_steps(folder):
    model, path = folder
    pipe = DiffusersTextToVideoPipeline.from_pretrained(path, low_cpu_mem_usage=False)
    with pytest.warns(UserWarning, match='not a size this model was trained on'):  # TINY trained on 16x32x32 only
        v = pipe(PROMPT, num_inference_steps=2, seed=1, num_frames=8, height=32, width=64)
    assert torch.allclose(v, model.generate([PROMPT], num_frames=8, height=32, width=64, num_inference_steps=2, seed=1), atol=1e-5)
    for bad in (dict(num_inference_steps=0), dict(guidance_scale=-1.0), dict(height=0)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            pipe(PROMPT, seed=1, **bad)


def test_a_size_shift_model_samples_each_size_with_its_shift(tmp_path):
    "A model with lesson 7's size_shift: the diffusers pipeline samples 16x64x64 at shift 6, as vidlab's own pipeline does."
    from dataclasses import replace
    model = TextToVideo(replace(TINY, buckets=[[16, 32, 32], [16, 64, 64]], size_shift=True), seed=0)
    pipe = DiffusersTextToVideoPipeline.from_pretrained(save_diffusers(model, tmp_path / 'pipe'), low_cpu_mem_usage=False)
    assert pipe.scheduler.config.shift == 3.0  # the stored scheduler: the default size's
    v = pipe(PROMPT, num_inference_steps=2, seed=1, height=64, width=64)
    assert torch.allclose(v, model.generate([PROMPT], height=64, width=64, num_inference_steps=2, seed=1), atol=1e-5)
    assert not torch.allclose(v, TextToVideo(replace(model.config, size_shift=False), seed=0).generate(
        [PROMPT], height=64, width=64, num_inference_steps=2, seed=1), atol=1e-5)  # one shift would differ


def test_the_shipped_model_keeps_its_buckets_and_steps_through_a_diffusers_folder(tmp_path):
    "The shipped model is the bucketed one: its 8 buckets and 12 default steps survive the round trip."
    import warnings
    shipped = TextToVideo.from_pretrained(device='cpu')
    assert len(shipped.config.buckets) == 8 and shipped.config.num_inference_steps == 12
    path = save_diffusers(shipped, tmp_path / 'shipped')
    saved = json.loads((path / 'model_index.json').read_text())['vidlab_config']
    assert saved == shipped.config_dict()
    back = load_diffusers(path)
    assert back.config == shipped.config and back.config_dict() == shipped.config_dict()
    pipe = DiffusersTextToVideoPipeline.from_pretrained(path, low_cpu_mem_usage=False)
    for f, h, w in ([16, 32, 32], [8, 32, 32], [16, 64, 32]):  # the default size and two other buckets: no warning
        with warnings.catch_warnings():
            warnings.simplefilter('error', UserWarning)
            v = pipe(PROMPT, seed=0, num_frames=f, height=h, width=w, num_inference_steps=3)
        assert torch.allclose(v, shipped.generate([PROMPT], num_frames=f, height=h, width=w, num_inference_steps=3, seed=0), atol=1e-4)
    assert torch.equal(back.generate([PROMPT], num_inference_steps=3, seed=0), shipped.generate([PROMPT], num_inference_steps=3, seed=0))


def test_scheduler_by_name_refuses_a_mismatched_solver(folder):
    model, _ = folder
    with pytest.raises(ValueError, match="cannot sample this 'flow' model: allowed are"):
        scheduler_by_name(model, 'DDPMScheduler')
    with pytest.raises(ValueError, match='allowed are'):
        scheduler_by_name(model, 'NoSuchScheduler')


def test_load_refuses_a_folder_without_model_index(tmp_path):
    with pytest.raises(FileNotFoundError, match='model_index.json is missing'):
        load_diffusers(tmp_path)


@pytest.mark.parametrize('kind', ['clip', 't5'])
def test_a_transformers_text_encoder_trains_and_generates(kind, tmp_path, monkeypatch):
    from dataclasses import replace
    from vidlab import recipe as recipes
    config, recipe = recipes.PRESETS['tiny']
    monkeypatch.setitem(recipes.PRESETS, f'tiny-{kind}', (replace(config, text_encoder=dict(config.text_encoder, kind=kind)),
                                                          replace(recipe, steps=10, vae_steps=5)))
    model = recipes.train_text_to_video(f'tiny-{kind}', out_dir=tmp_path, progress=False)
    assert type(model.text_encoder.model).__name__ == {'clip': 'CLIPTextModel', 't5': 'T5EncoderModel'}[kind]
    back = TextToVideo.from_pretrained(tmp_path)
    assert torch.equal(back.generate([PROMPT], num_inference_steps=2, seed=0), model.generate([PROMPT], num_inference_steps=2, seed=0))


def test_encoder_preset_changes_only_the_text_tower():
    from dataclasses import replace
    from vidlab.recipe import PRESETS
    from vidlab.ecosystem import encoder_preset
    config, recipe = PRESETS['default']
    variant, variant_recipe = encoder_preset('default', 't5', steps=1750)
    assert variant.text_encoder == dict(config.text_encoder, kind='t5')
    assert replace(variant, text_encoder=config.text_encoder) == config
    assert variant_recipe == replace(recipe, steps=1750) and encoder_preset('default', 'clip')[1] == recipe


@pytest.mark.parametrize('kwargs, message', [(dict(kinds=('vidlab', 'bert')), 'allowed are vidlab, clip, t5'),
                                             (dict(preset='huge'), 'unknown preset'), (dict(steps=0), 'steps must be >= 1'),
                                             (dict(n=0), 'n must be >= 1'), (dict(timing_rounds=0), 'timing_rounds must be')])
def test_compare_text_encoders_refuses_bad_input_before_any_work(kwargs, message):
    from vidlab.ecosystem import compare_text_encoders
    with pytest.raises(ValueError, match=message):
        compare_text_encoders(**{'preset': 'tiny', **kwargs})


def test_the_cached_comparison_is_equal_steps_and_reads_into_table_and_chart():
    from pathlib import Path
    import vidlab
    from vidlab.ecosystem import encoder_table, fidelity_bars, ATTRIBUTES_SHOWN
    results = json.loads((Path(vidlab.__file__).parent / 'assets' / 'text_encoders.json').read_text())
    arms = results['arms']
    assert not results.get('partial') and [a['kind'] for a in arms][:2] == ['vidlab', 'clip']
    assert {a['steps'] for a in arms} == {results['steps']} and results['command'].startswith('python benchmarks/text_encoders.py')
    assert all(0 <= a[split][k] <= 1 for a in arms for split in ('seen', 'held_out') for k in ATTRIBUTES_SHOWN)
    assert len(encoder_table(results).splitlines()) == 2 + len(arms)
    assert list(fidelity_bars(results)['bars']) == [a['encoder'] for a in arms]
