"The text-to-video GAN beyond the notebook: the training step's separation of updates, resume, the shipped model."
import json, math
import pytest
import torch
from vidlab.core import make_generator
from vidlab.gan import (GANConfig, TextToVideoGAN, TextFeatures, shipped_text_encoder, GANLearner, gan_batches, train_gan,
                        load_gan, save_gan, GANPipeline, default_gan_dir, motion_spread, train_gan_cli,
                        d_loss_fn, g_loss_fn, mode_seeking, d_features, attr_loss)
from vidlab.training import NaNGuard, TrainingDiverged

torch.set_num_threads(1)
TINY = dict(g_width=8, d_width=8, content_dim=8, motion_dim=8, noise_dim=4, cond_dim=16, batch_size=4, image_frames=2)


@pytest.fixture(scope='module')
def text(): return TextFeatures(*shipped_text_encoder())


def _opt(gan):
    return torch.optim.AdamW([dict(params=gan.generator.parameters(), lr=1e-3), dict(params=gan.d_parameters(), lr=1e-3)])


def test_step_updates_each_side_from_its_own_loss(text):
    gan = TextToVideoGAN(GANConfig(**TINY), text, seed=0)
    enc = {k: v.clone() for k, v in gan.text.state_dict().items()}
    learn = GANLearner(gan, None, gan_batches(gan), _opt(gan), seed=0)
    g0 = [p.detach().clone() for p in gan.generator.parameters()]
    d0 = [p.detach().clone() for p in gan.d_parameters()]
    learn.fit(1)
    assert all(not torch.equal(a, p) for a, p in zip(g0, gan.generator.parameters()) if p.numel() > 1)
    assert any(not torch.equal(a, p) for a, p in zip(d0, gan.d_parameters()))
    for k, v in gan.text.state_dict().items(): assert torch.equal(v, enc[k])  # the text encoder stays frozen
    assert {'d_loss', 'loss'} <= set(learn.history[-1])


def test_losses_route_gradients(text):
    gan = TextToVideoGAN(GANConfig(**TINY), text, seed=0)
    b = gan_batches(gan)(make_generator(0))
    fake = gan.generator(b['text'], b['z'], b['eps'])
    d_loss_fn(gan, b, fake).backward()
    assert all(p.grad is None for p in gan.generator.parameters())  # generated clips are detached for D's loss
    gan.zero_grad(set_to_none=True)
    g_loss_fn(gan, b, fake).backward(inputs=list(gan.generator.parameters()))
    assert all(p.grad is None for p in gan.d_parameters())


def test_nan_guard_stops_a_diverged_run(text):
    gan = TextToVideoGAN(GANConfig(**TINY), text, seed=0)
    with torch.no_grad(): next(gan.generator.parameters()).fill_(float('nan'))
    with pytest.raises(TrainingDiverged): GANLearner(gan, None, gan_batches(gan), _opt(gan), cbs=[NaNGuard()], seed=0).fit(2)


def test_resume_is_exact(tmp_path):
    cfg = GANConfig(**TINY)
    straight = train_gan(None, steps=4, cfg=cfg, eval_every=100, progress=False, device='cpu')
    train_gan(tmp_path, steps=2, cfg=cfg, eval_every=2, progress=False, device='cpu')
    resumed = train_gan(tmp_path, steps=4, cfg=cfg, eval_every=2, progress=False, device='cpu')
    for a, b in zip(straight.generator.parameters(), resumed.generator.parameters()): torch.testing.assert_close(a, b)


def test_load_errors(tmp_path, text):
    with pytest.raises(FileNotFoundError, match='config.json'): load_gan(tmp_path)
    save_gan(TextToVideoGAN(GANConfig(**TINY), text, seed=0), tmp_path)
    cfg = json.loads((tmp_path / 'config.json').read_text())
    cfg['gan']['g_width'] = 16  # the config no longer describes the weights
    (tmp_path / 'config.json').write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match='wrong shapes'): load_gan(tmp_path)
    with pytest.raises(ValueError, match='power of 2'): GANConfig(size=24)  # 3 doublings of 4x4 could never reach 24
    with pytest.raises(ValueError, match='allowed are'): GANConfig(motion='lstm')
    with pytest.raises(ValueError, match='>= 0'): GANConfig(aux=-1)
    with pytest.raises(ValueError, match='at least 2'): GANConfig(batch_size=1)


def test_auxiliary_classifier_trains_on_real_clips_only(text):
    gan = TextToVideoGAN(GANConfig(**TINY), text, seed=0).eval()  # eval: spectral norm's power iteration holds still
    b = gan_batches(gan)(make_generator(0))
    fake = gan.generator(b['text'], b['z'], b['eps'])
    heads = [*gan.d_image.classify.parameters(), *gan.d_video.classify.parameters()]
    d_loss_fn(gan, b, fake, make_generator(0)).backward(inputs=heads)
    grads = [p.grad.clone() for p in heads]
    gan.zero_grad(set_to_none=True)
    attr_loss(gan, d_features(gan, b['video'], make_generator(0)), b['attrs']).backward(inputs=heads)
    for g, p in zip(grads, heads): torch.testing.assert_close(g, p.grad)  # the aux term of D's loss: real clips only
    off = TextToVideoGAN(GANConfig(**TINY, aux=0), text, seed=0)
    d_loss_fn(off, b, fake.detach()).backward()
    assert all(p.grad is None for p in [*off.d_image.classify.parameters(), *off.d_video.classify.parameters()])


def test_r1_is_the_gradient_norm_at_real_clips(text):
    cfg = dict(TINY, aux=0, diversity=0)
    b = gan_batches(TextToVideoGAN(GANConfig(**cfg), text, seed=0))(make_generator(0))
    fake = torch.rand_like(b['video'])
    plain = d_loss_fn(TextToVideoGAN(GANConfig(**cfg), text, seed=0).train(), dict(b), fake, make_generator(1))
    gan = TextToVideoGAN(GANConfig(**cfg, r1=2.0), text, seed=0).train()
    with_r1 = d_loss_fn(gan, dict(b, video=b['video'].clone()), fake, make_generator(1))
    assert with_r1 > plain


def test_mode_seeking_punishes_collapse(text):
    gan = TextToVideoGAN(GANConfig(**TINY), text, seed=0)
    b = gan_batches(gan)(make_generator(0))
    fake = gan.generator(b['text'], b['z'], b['eps'])
    collapsed = dict(b, z2=b['z'][:2], eps2=b['eps'][:2])
    assert mode_seeking(gan, collapsed, fake) > 10 * mode_seeking(gan, b, fake)  # an untrained G is near collapse already


def test_shipped_gan_one_call_offline():
    d = default_gan_dir()
    assert (d / 'model.safetensors').exists() and (d / 'config.json').exists()
    log = json.loads((d / 'train_log.json').read_text())
    assert log['command'].startswith('python -m vidlab.gan') and log['steps'] > 0
    pipe = GANPipeline.from_pretrained(device='cpu')
    v = pipe('a small red circle moving left', seed=0)
    assert v.shape == (16, 32, 32, 3) and v.min() >= 0 and v.max() <= 1
    assert (v == pipe('a small red circle moving left', seed=0)).all()
    assert len(pipe(['a red circle', 'a blue square'], seed=0)) == 2
    with pytest.raises(TypeError): pipe(3)
    spread = motion_spread(pipe.gan.generate(['a small red circle moving right'] * 16, seed=1))
    assert spread['found'] == 1 and spread['start_std'] > 1  # not collapsed: the untuned GAN had 0.05 px (real clips: 7.3)


def test_shipped_gans_read_captions_with_the_shipped_models_text_encoder(text):
    "The GANs store a copy of the shipped diffusion model's frozen text encoder: it must equal it, tensor for tensor."
    tok, enc, max_length = shipped_text_encoder()
    prompts = ['a small red circle moving left', 'a large blue square moving up', 'a purple star spinning']
    for d in (default_gan_dir(), default_gan_dir() / 'no_gru'):
        gan = load_gan(d, device='cpu')
        ours = gan.text.encoder.state_dict()
        assert ours.keys() == enc.state_dict().keys() and all(torch.equal(v, enc.state_dict()[k]) for k, v in ours.items()), d
        assert gan.text.max_length == max_length
        assert torch.equal(gan.text.tokenizer.encode(prompts, max_length=max_length).input_ids,
                           tok.encode(prompts, max_length=max_length).input_ids)
        assert torch.equal(gan.text(prompts), text(prompts)), d


def test_motion_spread_without_objects():
    assert math.isnan(motion_spread(torch.zeros(3, 16, 3, 32, 32))['start_std'])  # no object anywhere


def test_sizes_other_than_32(text):
    gan = TextToVideoGAN(GANConfig(**dict(TINY, size=16, frames=8)), text, seed=0)
    assert gan.generate(['a red circle'], seed=0).shape == (1, 8, 3, 16, 16)


def test_cli_records_its_command(tmp_path, capsys):
    args = ['--out', str(tmp_path), '--steps', '1', '--set', *[f'{k}={v}' for k, v in TINY.items()], 'spectral_norm=false', 'r1=0.5']
    train_gan_cli(args)
    log = json.loads((tmp_path / 'train_log.json').read_text())
    assert log['command'] == 'python -m vidlab.gan ' + ' '.join(args) and log['steps'] == 1
    assert log['config']['spectral_norm'] is False and log['config']['r1'] == 0.5 and log['config']['g_width'] == 8
    assert load_gan(tmp_path, device='cpu').cfg == GANConfig(**TINY, spectral_norm=False, r1=0.5)
    with pytest.raises(SystemExit, match='unknown GANConfig field'): train_gan_cli(['--out', str(tmp_path), '--set', 'widht=3'])
