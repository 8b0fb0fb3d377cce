"Property tests of the denoiser: tubelets, shapes, attention patterns, conditioning, determinism."
import math
import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings, strategies as st, HealthCheck
from vidlab.dit import (DiTConfig, VideoDiT, DiTBlock, patch_grid, patchify, unpatchify, temporal_attention, forward_flops,
                        attention_flops, count_flops)
from vidlab.positions import spacetime_pos_embed, position_scales

torch.set_num_threads(1)
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

patches = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4))
grids = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))


@FAST
@given(patch=patches, grid=grids, b=st.integers(1, 2), c=st.integers(1, 4))
def test_patchify_unpatchify_exact_inverses(patch, grid, b, c):
    size = tuple(g * p for g, p in zip(grid, patch))
    x = torch.randn(b, size[0], c, size[1], size[2])
    tokens = patchify(x, patch)
    assert tokens.shape == (b, math.prod(grid), c * math.prod(patch))
    assert patch_grid(size, patch) == grid
    assert torch.equal(unpatchify(tokens, patch, grid), x)
    assert torch.equal(patchify(unpatchify(tokens, patch, grid), patch), tokens)


@FAST
@given(patch=patches, grid=grids, axis=st.integers(0, 2), extra=st.integers(1, 3))
def test_invalid_shapes_raise_clear_errors(patch, grid, axis, extra):
    size = [g * p for g, p in zip(grid, patch)]
    if patch[axis] == 1: return  # every size is a multiple of 1
    size[axis] += extra % patch[axis] or 1
    name, pname = 'fhw'[axis], ('pt', 'ph', 'pw')[axis]
    with pytest.raises(ValueError, match=f'{name}={size[axis]} is not a positive multiple of {pname}={patch[axis]}'):
        patch_grid(tuple(size), patch)
    with pytest.raises(ValueError, match='cannot be cut into tubelets'):
        patchify(torch.zeros(1, size[0], 2, size[1], size[2]), patch)


def test_other_invalid_inputs():
    with pytest.raises(ValueError, match='positive multiple'): patch_grid((0, 4, 4), (1, 2, 2))
    with pytest.raises(ValueError, match=r'\(b, f, c, h, w\)'): patchify(torch.zeros(4, 2, 4, 4), (1, 2, 2))
    with pytest.raises(ValueError, match='expected tokens'): unpatchify(torch.zeros(1, 5, 4), (1, 2, 2), (1, 2, 2))
    with pytest.raises(ValueError, match='attention must be one of'): DiTConfig(attention='sparse')
    with pytest.raises(ValueError, match='multiple of 16'): DiTConfig(dim=40, heads=4)


def _perturbed(cfg, seed=0):
    "A model whose zero-initialised weights are random, as after training."
    model = VideoDiT(cfg, seed=seed).requires_grad_(False).eval()
    g = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        if p.ndim == 2 and (p == 0).all(): p.normal_(0, 0.05, generator=g)
    return model


@FAST
@given(attention=st.sampled_from(['factorized', 'full']), grid=grids, b=st.integers(1, 3), l=st.integers(1, 5),
       depth=st.integers(1, 3), seed=st.integers(0, 3))
def test_both_attentions_run_on_random_grids(attention, grid, b, l, depth, seed):
    cfg = DiTConfig(dim=32, heads=2, depth=depth, text_dim=16, attention=attention, patch_size=(1, 2, 2))
    model = _perturbed(cfg, seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, grid[0], 4, 2 * grid[1], 2 * grid[2], generator=g)
    text = torch.randn(b, l, 16, generator=g)
    mask = torch.rand(b, l, generator=g) > 0.5
    out = model(x, torch.rand(b, generator=g) * 1000, text, mask)
    assert out.shape == x.shape and torch.isfinite(out).all()
    with model.record_attention() as maps: out2 = model(x, torch.full((b,), 10.0), text, mask)
    assert len(maps) == depth and torch.isfinite(out2).all()
    for m in maps:
        tm = temporal_attention(m)
        assert tm.shape == (b, 2, grid[0], grid[0])
        torch.testing.assert_close(tm.sum(-1), torch.ones(b, 2, grid[0]))


def test_fresh_model_is_zero_and_each_block_identity():
    model = VideoDiT(DiTConfig(), seed=1).requires_grad_(False)
    x, text = torch.randn(2, 4, 4, 8, 8), torch.randn(2, 3, 128)
    assert torch.equal(model(x, torch.tensor([1.0, 999.0]), text), torch.zeros_like(x))
    ctx = model.encode_text(text)
    tokens, c = torch.randn(2, 64, 128), torch.randn(2, 128)
    for block, kv in zip(model.blocks, ctx.kv): assert torch.equal(block(tokens, c, kv, ctx.mask, (4, 4, 4)), tokens)


def test_same_seed_same_model_and_output():
    a, b = _perturbed(DiTConfig(), 3), _perturbed(DiTConfig(), 3)
    for (n, p), q in zip(a.state_dict().items(), b.state_dict().values()): assert torch.equal(p, q), n
    assert not torch.equal(VideoDiT(seed=3).blocks[0].qkv.weight, VideoDiT(seed=4).blocks[0].qkv.weight)
    x, text = torch.randn(1, 4, 4, 8, 8), torch.randn(1, 3, 128)
    assert torch.equal(a(x, 500.0, text), b(x, 500.0, text))


@pytest.mark.parametrize('kind', ['spatial', 'temporal', 'full'])
def test_attention_pattern_reach(kind):
    "Changing one token moves exactly the tokens its attention pattern can reach."
    torch.manual_seed(0)
    cfg, grid = DiTConfig(dim=32, heads=2, text_dim=32), (3, 2, 4)
    block = DiTBlock(cfg, kind).requires_grad_(False)
    nn.init.normal_(block.ada.weight, std=0.1)
    x, c = torch.randn(1, 24, 32), torch.randn(1, 32)
    kv = block.text_kv(torch.randn(1, 5, 32))
    x2 = x.clone(); x2[0, 13] += torch.randn(32)  # frame 1, row 1, column 1
    moved = ((block(x2, c, kv, None, grid) - block(x, c, kv, None, grid)).abs().amax(-1) > 1e-6).reshape(grid)
    expect = torch.zeros(grid, dtype=torch.bool)
    if kind == 'spatial': expect[1] = True
    elif kind == 'temporal': expect[:, 1, 1] = True
    else: expect[:] = True
    assert torch.equal(moved, expect)


def test_padding_mask_and_empty_prompt():
    model = _perturbed(DiTConfig(dim=32, heads=2, text_dim=16))
    x, text = torch.randn(2, 2, 4, 4, 4), torch.randn(2, 3, 16)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    junk = torch.cat([text, torch.randn(2, 2, 16)], 1)
    junk_mask = torch.cat([mask, torch.zeros(2, 2, dtype=torch.long)], 1)
    torch.testing.assert_close(model(x, 5.0, junk, junk_mask), model(x, 5.0, text, mask))
    assert torch.isfinite(model(x, 5.0, text, torch.zeros_like(mask))).all()


def test_errors_are_clear():
    model = VideoDiT(DiTConfig(in_channels=3, text_dim=8)).requires_grad_(False)
    assert model(torch.randn(1, 2, 3, 4, 4), 1.0, torch.randn(1, 2, 8)).shape == (1, 2, 3, 4, 4)
    with pytest.raises(ValueError, match='in_channels=3'): model(torch.randn(1, 2, 4, 4, 4), 1.0, torch.randn(1, 2, 8))
    with pytest.raises(ValueError, match='text_dim=8'): model(torch.randn(1, 2, 3, 4, 4), 1.0, torch.randn(1, 2, 9))
    with pytest.raises(ValueError, match=r'shape \(1,\)'): model(torch.randn(1, 2, 3, 4, 4), torch.ones(2), torch.randn(1, 2, 8))
    with pytest.raises(ValueError, match='prompt batch'): model(torch.randn(2, 2, 3, 4, 4), 1.0, torch.randn(1, 2, 8))
    with pytest.raises(ValueError, match='pass the prompt'): model(torch.randn(1, 2, 3, 4, 4), 1.0)
    with pytest.raises(ValueError, match='pos_grid must be None or three positive ints'): DiTConfig(pos_grid=(4, 0, 4))
    with pytest.raises(TypeError): DiTConfig(learn_sigma=True)  # removed: it was never used


# latent grids of the buckets bucketed training uses: 8 to 32 frames, 24 to 64 px, landscape and portrait
BUCKET_LATENTS = [(2, 6, 6), (4, 8, 8), (8, 8, 8), (4, 12, 12), (4, 16, 16), (4, 8, 16), (4, 16, 8), (8, 16, 16)]


@pytest.mark.parametrize('attention', ['factorized', 'full'])
@pytest.mark.parametrize('size', BUCKET_LATENTS)
def test_any_bucket_grid_runs_and_batches_independently(size, attention):
    model = _perturbed(DiTConfig(dim=32, heads=2, text_dim=16, attention=attention))
    g = torch.Generator().manual_seed(0)
    x, text = torch.randn(2, size[0], 4, size[1], size[2], generator=g), torch.randn(2, 3, 16, generator=g)
    out = model(x, torch.tensor([10.0, 800.0]), text)
    assert out.shape == x.shape and torch.isfinite(out).all()
    torch.testing.assert_close(model(x[1:], torch.tensor([800.0]), text[1:]), out[1:], atol=1e-5, rtol=1e-5)


def test_scaled_positions_keep_the_default_grid_exact():
    "The shipped model's grid (4, 4, 4) gets exactly the integer positions; other grids scale as documented."
    ref = DiTConfig().pos_grid
    assert ref == (4, 4, 4)
    assert torch.equal(spacetime_pos_embed(64, (4, 4, 4), ref_grid=ref), spacetime_pos_embed(64, (4, 4, 4)))
    for grid, scales in [((8, 8, 8), (0.5, 0.5, 0.5)), ((2, 3, 3), (2.0, 4 / 3, 4 / 3)), ((4, 4, 8), (1.0, 1.0, 1.0)),
                         ((4, 8, 4), (1.0, 1.0, 1.0)), ((8, 8, 16), (0.5, 0.5, 0.5))]:
        assert position_scales(grid, ref) == pytest.approx(scales)
    for grid, scales in [((4, 4, 8), (1.0, 1.0, 0.5)), ((4, 8, 4), (1.0, 0.5, 1.0)), ((8, 8, 8), (0.5, 0.5, 0.5))]:
        assert position_scales(grid, ref, 'each') == pytest.approx(scales)  # each axis spans the reference's extent
    fine = spacetime_pos_embed(64, (8, 8, 16), ref_grid=ref).reshape(8, 8, 16, 64)
    torch.testing.assert_close(fine[::2, ::2, ::2], spacetime_pos_embed(64, (4, 4, 8)).reshape(4, 4, 8, 64))
    tall = spacetime_pos_embed(64, (4, 8, 4), ref_grid=ref).reshape(4, 8, 4, 64)
    assert torch.equal(tall[:, :4], spacetime_pos_embed(64, (4, 4, 4)).reshape(4, 4, 4, 64))
    a = _perturbed(DiTConfig(dim=32, heads=2, text_dim=16))
    b = VideoDiT(DiTConfig(dim=32, heads=2, text_dim=16, pos_grid=None)).requires_grad_(False)
    b.load_state_dict(a.state_dict())
    x, text = torch.randn(1, 4, 4, 8, 8), torch.randn(1, 3, 16)
    assert torch.equal(a(x, 100.0, text), b(x, 100.0, text))
    assert DiTConfig(pos_grid=[4, 4, 4]).pos_grid == (4, 4, 4)  # from JSON
    with pytest.raises(ValueError, match="pos_axes must be one of \\('shorter', 'each'\\), got 'both'"): DiTConfig(pos_axes='both')
    with pytest.raises(ValueError, match="pos_centre must be true or false, got 'yes'"): DiTConfig(pos_centre='yes')


def test_pos_embed_any_grid_and_bf16_autocast_trains():
    pe = spacetime_pos_embed(64, (7, 3, 5))
    assert pe.shape == (105, 64) and torch.isfinite(pe).all() and len(torch.unique(pe, dim=0)) == 105
    model = VideoDiT(DiTConfig(dim=32, heads=2, text_dim=16), seed=0)
    x, text = torch.randn(2, 2, 4, 4, 4), torch.randn(2, 3, 16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = (model(x, torch.tensor([3.0, 700.0]), text, torch.tensor([[1, 1, 0], [0, 0, 0]])) - x).pow(2).mean()
    loss.backward()
    assert torch.isfinite(loss) and model.final.weight.grad.abs().sum() > 0


def test_flops_counted_match_attention_formula():
    cfg = DiTConfig(dim=32, heads=2, text_dim=16, depth=2, attention='full')
    model = VideoDiT(cfg)
    linear_only = VideoDiT(DiTConfig(dim=32, heads=2, text_dim=16, depth=2))
    size = (2, 4, 4)
    assert forward_flops(model, size, batch=1, text_len=3) > forward_flops(linear_only, size, batch=1, text_len=3)
    assert (forward_flops(model, size, batch=1, text_len=3) - forward_flops(linear_only, size, batch=1, text_len=3)
            == attention_flops(cfg, size, 3) - attention_flops(linear_only.cfg, size, 3))
    assert count_flops(lambda: torch.ones(8, 16) @ torch.ones(16, 4)) == 2 * 8 * 16 * 4  # a multiply-add counts 2


def test_joint_text_attention_model_round_trip(tmp_path):
    "A joint-attention model (lesson 10's MM-DiT switch) builds without cross layers, samples, saves and loads exactly."
    from dataclasses import replace
    from vidlab.pipeline import TextToVideo, TextToVideoPipeline, TINY
    cfg = replace(TINY, transformer={**TINY.transformer, 'attention': 'full', 'text_attention': 'joint'})
    model = TextToVideo(cfg, seed=0)
    blk = model.transformer.blocks[0]
    assert blk.joint and not any(hasattr(blk, n) for n in ('q', 'norm2', 'cross_proj'))
    for p in model.transformer.parameters(): p.data.add_(0.01 * torch.randn_like(p))  # as if trained: gates open
    model.save_pretrained(tmp_path / 'm')
    back = TextToVideo.from_pretrained(tmp_path / 'm')
    assert back.transformer.cfg.text_attention == 'joint'
    a = TextToVideoPipeline(model, device='cpu')('a red circle moving left', seed=0, num_inference_steps=2).frames
    b = TextToVideoPipeline(back, device='cpu')('a red circle moving left', seed=0, num_inference_steps=2).frames
    assert a.shape == (16, 32, 32, 3) and (a == b).all()
    with pytest.raises(ValueError, match="needs attention='full'"):
        TextToVideo(replace(TINY, transformer={**TINY.transformer, 'text_attention': 'joint', 'attention': 'factorized'}))


def test_rotary_positions_see_only_offsets():
    "A rotary model's self-attention sees offsets only: moving every position by the same amount (pos_centre) changes nothing."
    torch.manual_seed(0)
    x, text = torch.randn(2, 4, 4, 8, 16), torch.randn(2, 5, 128)  # a landscape latent grid (4, 4, 8)
    outs = {}
    for positions in ('absolute', 'rotary'):
        for centre in (False, True):
            model = VideoDiT(DiTConfig(dim=64, heads=4, attention='full', positions=positions, pos_centre=centre), seed=0)
            g = torch.Generator().manual_seed(1)  # the same weights for every variant
            for p in model.parameters(): p.data.add_(0.05 * torch.randn(p.shape, generator=g))  # leave adaLN-Zero's identity
            outs[positions, centre] = model(x, 500.0, text)
    torch.testing.assert_close(outs['rotary', False], outs['rotary', True], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(outs['absolute', False], outs['absolute', True], atol=1e-3)
    for size in [(2, 6, 6), (8, 16, 16), (4, 16, 8)]:  # any length and size
        assert model(torch.randn(1, size[0], 4, *size[1:]), 10.0, text[:1]).shape == (1, size[0], 4, *size[1:])
