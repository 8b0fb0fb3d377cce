"The VAE's contracts: shapes and errors of encode/decode, encode_video/decode_video, and checkpoints on disk."
import json
from pathlib import Path
import pytest
import torch
from vidlab.vae import (VAEConfig, FrameVAE, VideoVAE, build_vae, vae_config, encode_video, decode_video,
                        calibrate_scaling, compression)
from vidlab.vae_training import save_vae, load_vae, CONFIG_FILE, WEIGHTS_FILE, VAE_FORMAT
from vidlab.core import load_safetensors
import vidlab

torch.set_num_threads(1)


def clips(b=2, f=16, size=32, seed=0):
    return torch.rand(b, f, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope='module')
def vae():
    torch.manual_seed(0)
    v = build_vae('test').eval()
    calibrate_scaling(v, clips())
    return v


@pytest.fixture(scope='module')
def frame_vae():
    torch.manual_seed(0)
    return build_vae(vae_config('frame', widths=(16,), blocks=1)).eval()


@pytest.mark.parametrize('f,size', [(16, 32), (8, 16), (4, 64)])
def test_video_shapes(vae, f, size):
    with torch.no_grad():
        z = encode_video(vae, clips(2, f, size))
        assert z.shape == (2, f // 4, 4, size // 4, size // 4)
        assert decode_video(vae, z).shape == (2, f, 3, size, size)
        q = vae.encode(torch.rand(1, 3, f, size, size) * 2 - 1).latent_dist
        assert q.sample(torch.Generator().manual_seed(0)).shape == q.mode().shape == (1, 4, f // 4, size // 4, size // 4)
        assert vae.decode(q.mode()).sample.shape == (1, 3, f, size, size)


@pytest.mark.parametrize('f,h,w', [(8, 24, 24), (16, 32, 64), (16, 64, 32), (32, 48, 48), (4, 4, 4)])
def test_any_multiple_of_the_factors_round_trips(vae, f, h, w):
    "Frames a multiple of 4 and height/width multiples of 4, square or not: exact shapes back, no silent resize."
    x = torch.rand(1, f, 3, h, w, generator=torch.Generator().manual_seed(f + h + w))
    with torch.no_grad():
        z = encode_video(vae, x)
        assert z.shape == (1, f // 4, 4, h // 4, w // 4)
        assert vae.latent_shape(f, h, w) == (f // 4, 4, h // 4, w // 4)
        assert decode_video(vae, z).shape == x.shape
        # height and width are not swapped or squared anywhere: the transposed clip gives the transposed latent
        if w != h: assert encode_video(vae, x.transpose(-1, -2)).shape == (1, f // 4, 4, w // 4, h // 4)


@pytest.mark.parametrize('f,h,w,msg', [(0, 32, 32, 'frames 0 is not a positive multiple of the temporal compression 4: use 4, 8, 12'),
                                       (6, 32, 32, 'frames 6 is not a positive multiple'),
                                       (16, 2, 32, 'height 2 is not a positive multiple of the spatial compression 4'),
                                       (16, 32, 38, 'width 38 is not a positive multiple')])
def test_sizes_it_cannot_take(vae, f, h, w, msg):
    with pytest.raises(ValueError, match=msg): encode_video(vae, torch.rand(1, f, 3, h, w))
    with pytest.raises(ValueError, match=msg): vae.latent_shape(f, h, w)


def test_frame_shapes(frame_vae):
    with torch.no_grad():
        assert encode_video(frame_vae, clips(2, 6, 32)).shape == (2, 6, 4, 8, 8)
        assert frame_vae.encode(torch.rand(5, 3, 16, 16)).latent_dist.mode().shape == (5, 4, 4, 4)
        assert frame_vae.decode(torch.zeros(5, 4, 4, 4)).sample.shape == (5, 3, 16, 16)
    assert compression(frame_vae) == (1, 4)


@pytest.mark.parametrize('shape,msg', [((1, 15, 3, 32, 32), 'frames 15 is not a positive multiple of the temporal compression 4'),
                                       ((1, 16, 3, 30, 32), 'height 30 is not a positive multiple of the spatial compression 4'),
                                       ((1, 16, 3, 32, 34), 'width 34 is not a positive multiple of the spatial compression 4'),
                                       ((1, 16, 1, 32, 32), 'expected clips (b, f, 3, h, w)'),
                                       ((16, 3, 32, 32), 'expected clips (b, f, 3, h, w)')])
def test_invalid_sizes(vae, shape, msg):
    with pytest.raises(ValueError, match=msg.replace('(', r'\(').replace(')', r'\)')):
        encode_video(vae, torch.rand(*shape))


def test_invalid_latents(vae, frame_vae):
    with pytest.raises(ValueError, match='with 4 channels'): decode_video(vae, torch.zeros(1, 4, 3, 8, 8))
    with pytest.raises(ValueError, match='4 channels on dim 1'): vae.decode(torch.zeros(1, 8, 4, 8, 8))
    with pytest.raises(ValueError, match='for videos use encode_video'): frame_vae.encode(torch.rand(1, 16, 3, 32, 32))
    with pytest.raises(ValueError, match='spatial compression 4'): frame_vae.encode(torch.rand(1, 3, 18, 32))


def test_seeded_sampling(vae):
    x = clips(1)
    with torch.no_grad():
        a = encode_video(vae, x, generator=torch.Generator().manual_seed(3), sample=True)
        b = encode_video(vae, x, generator=torch.Generator().manual_seed(3), sample=True)
        assert torch.equal(a, b) and not torch.equal(a, encode_video(vae, x))


def test_config_errors():
    with pytest.raises(ValueError, match='choose one of frame, video'): VAEConfig(kind='image')
    with pytest.raises(ValueError, match='temporal_compression must be 1'): VAEConfig(kind='frame')
    with pytest.raises(ValueError, match='positive int'): VAEConfig(temporal_compression=0)
    with pytest.raises(ValueError, match='unknown VAE preset'): build_vae('nope')


def test_save_load_round_trip(vae, tmp_path):
    save_vae(vae, tmp_path / 'v')
    assert sorted(p.name for p in (tmp_path / 'v').iterdir()) == sorted([CONFIG_FILE, WEIGHTS_FILE])
    back = load_vae(tmp_path / 'v', device='cpu')
    assert isinstance(back, VideoVAE) and not back.training and back.config == vae.config
    x = clips(1, seed=5)
    with torch.no_grad():
        assert torch.equal(encode_video(back, x), encode_video(vae, x))
        z = encode_video(vae, x)
        assert torch.equal(decode_video(back, z), decode_video(vae, z))


def test_frame_round_trip(frame_vae, tmp_path):
    save_vae(frame_vae, tmp_path / 'f')
    assert isinstance(load_vae(tmp_path / 'f', device='cpu'), FrameVAE)


def test_truncated_checkpoint(vae, tmp_path):
    save_vae(vae, tmp_path / 'v')
    w = tmp_path / 'v' / WEIGHTS_FILE
    w.write_bytes(w.read_bytes()[:-1000])
    with pytest.raises(ValueError, match='truncated or corrupt'): load_vae(tmp_path / 'v')
    w.write_bytes(b'')
    with pytest.raises(ValueError, match='truncated or corrupt'): load_vae(tmp_path / 'v')


def test_mismatched_checkpoint(vae, tmp_path):
    save_vae(vae, tmp_path / 'v')
    cfg = json.loads((tmp_path / 'v' / CONFIG_FILE).read_text())
    (tmp_path / 'v' / CONFIG_FILE).write_text(json.dumps(cfg | dict(latent_channels=8)))
    with pytest.raises(ValueError, match='does not match.*wrong shapes'): load_vae(tmp_path / 'v')
    (tmp_path / 'v' / CONFIG_FILE).write_text(json.dumps(cfg | dict(blocks=2)))
    with pytest.raises(ValueError, match='does not match.*missing'): load_vae(tmp_path / 'v')
    (tmp_path / 'v' / CONFIG_FILE).write_text(json.dumps(cfg | dict(kind='frame', temporal_compression=1)))
    with pytest.raises(ValueError, match='does not match'): load_vae(tmp_path / 'v')
    (tmp_path / 'v' / CONFIG_FILE).write_text(json.dumps(cfg | dict(colour=1)))
    with pytest.raises(ValueError, match='unknown VAEConfig keys'): load_vae(tmp_path / 'v')
    (tmp_path / 'v' / CONFIG_FILE).write_text('{not json')
    with pytest.raises(ValueError, match='not valid JSON'): load_vae(tmp_path / 'v')


def test_format_in_metadata(vae, tmp_path):
    _, meta = load_safetensors(save_vae(vae, tmp_path / 'v') / WEIGHTS_FILE)
    assert meta['format'] == VAE_FORMAT == 'vidlab.vae'


def test_load_vae_of_the_shipped_model():
    "load_vae reads the VAE part of a text-to-video model folder: the same weights the pipeline loads."
    shipped = Path(vidlab.__file__).parent / 'assets' / 'default'
    v = load_vae(shipped, device='cpu')
    cfg = json.loads((shipped / 'config.json').read_text())['vae']
    assert isinstance(v, VideoVAE) and v.config.scaling_factor == cfg['scaling_factor']
    tensors, _ = load_safetensors(shipped / 'model.safetensors')
    for k, p in v.state_dict().items(): assert torch.equal(p, tensors['vae.' + k]), k


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='config.json is missing'): load_vae(tmp_path / 'none')


def test_diffusers_autoencoderkl_stands_in():
    from diffusers import AutoencoderKL
    torch.manual_seed(0)
    hf = AutoencoderKL(latent_channels=4, block_out_channels=(8, 16, 16), down_block_types=('DownEncoderBlock2D',) * 3,
                       up_block_types=('UpDecoderBlock2D',) * 3, layers_per_block=1, norm_num_groups=4).eval()
    x = clips(1, 4)
    with torch.no_grad():
        calibrate_scaling(hf, x)
        z = encode_video(hf, x)
        assert z.shape == (1, 4, 4, 8, 8) and abs(z.std().item() - 1) < 1e-3
        assert decode_video(hf, z).shape == x.shape
