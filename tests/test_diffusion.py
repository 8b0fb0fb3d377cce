"Property tests for vidlab.diffusion: the forward process, schedules and prediction conversions across random inputs."
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st, HealthCheck

from vidlab.diffusion import (BETA_SCHEDULES, PREDICTION_TYPES, TIMESTEP_SPACINGS, alpha_bars, convert_prediction,
                              cosine_alpha_bar, forward_noise, from_x0_eps, make_betas, randn, shift_sigmas, snr,
                              spaced_timesteps, to_x0_eps, FlowSchedule, VPSchedule)

diffusers = pytest.importorskip('diffusers')
from diffusers import DDPMScheduler as HFDDPM

torch.set_num_threads(1)
SETTINGS = dict(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**31 - 1)


def test_papers_schedule_values():
    lin = make_betas('linear', 1000)
    assert (lin[0].item(), lin[-1].item()) == (1e-4, 0.02)
    ab = alpha_bars(make_betas('squaredcos_cap_v2', 1000))
    t = torch.arange(1, 1000, dtype=torch.float64) / 1000
    assert (ab[:-1] - cosine_alpha_bar(t)).abs().max() < 1e-12  # eq. 17 wherever the 0.999 clip does not bite
    assert make_betas('squaredcos_cap_v2', 1000).max().item() == pytest.approx(0.999)
    for name, b0, b1 in (('linear', 1e-4, 0.02), ('scaled_linear', 0.00085, 0.012), ('squaredcos_cap_v2', 1e-4, 0.02)):
        hf = HFDDPM(beta_schedule=name, beta_start=b0, beta_end=b1)
        assert (alpha_bars(make_betas(name, 1000, b0, b1)) - hf.alphas_cumprod.double()).abs().max() < 1e-6
    with pytest.raises(ValueError, match='allowed are linear'): make_betas('cosine')


@settings(**SETTINGS)
@given(schedule=st.sampled_from(BETA_SCHEDULES), T=st.sampled_from([10, 100, 1000]))
def test_alpha_bar_is_the_product_and_snr_falls(schedule, T):
    betas = make_betas(schedule, T)
    ab = alpha_bars(betas)
    assert torch.allclose(ab, torch.tensor(np.cumprod(1 - betas.numpy())), rtol=0, atol=1e-15)
    assert (snr(ab).diff() < 0).all() and ((0 < ab) & (ab < 1)).all()


@settings(**SETTINGS)
@given(seed=seeds)
def test_forward_noise_is_ho_eq_4(seed):
    g = torch.Generator().manual_seed(seed)
    x0, eps = torch.randn(4, 2, 3, generator=g, dtype=torch.float64), torch.randn(4, 2, 3, generator=g, dtype=torch.float64)
    ab = torch.rand(4, generator=g, dtype=torch.float64)
    want = ab.sqrt()[:, None, None] * x0 + (1 - ab).sqrt()[:, None, None] * eps
    torch.testing.assert_close(forward_noise(x0, eps, ab.sqrt(), (1 - ab).sqrt()), want, rtol=0, atol=1e-12)
    hf = HFDDPM()  # diffusers' add_noise reads its (float32) alphas_cumprod
    t = torch.randint(0, 1000, (4,), generator=g)
    ab_t = hf.alphas_cumprod[t].double()
    torch.testing.assert_close(forward_noise(x0, eps, ab_t.sqrt(), (1 - ab_t).sqrt()), hf.add_noise(x0, eps, t),
                               rtol=0, atol=1e-6)


@settings(**SETTINGS)
@given(seed=seeds, kind=st.sampled_from(['vp', 'flow']))
def test_conversions_round_trip(seed, kind):
    g = torch.Generator().manual_seed(seed)
    x0, eps = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    u = torch.rand(5, generator=g, dtype=torch.float64) * 0.98 + 0.01
    alpha, sigma = (u.sqrt(), (1 - u).sqrt()) if kind == 'vp' else (1 - u, u)
    x_t = forward_noise(x0, eps, alpha, sigma)
    for src in PREDICTION_TYPES:
        out = from_x0_eps(x0, eps, alpha, sigma, src)
        a, b = to_x0_eps(out, x_t, alpha, sigma, src)
        torch.testing.assert_close(a, x0, rtol=0, atol=1e-9); torch.testing.assert_close(b, eps, rtol=0, atol=1e-9)
        for dst in PREDICTION_TYPES:
            torch.testing.assert_close(convert_prediction(out, x_t, alpha, sigma, src, dst),
                                       from_x0_eps(x0, eps, alpha, sigma, dst), rtol=0, atol=1e-8)
    with pytest.raises(ValueError, match='allowed are'): to_x0_eps(x0, x0, alpha, sigma, 'noise')


def test_v_target_matches_diffusers_get_velocity():
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    t = torch.tensor([0, 250, 500, 999])
    ab = alpha_bars(make_betas())[t]
    v = from_x0_eps(x0.double(), eps.double(), ab.sqrt(), (1 - ab).sqrt(), 'v_prediction')
    torch.testing.assert_close(v.float(), HFDDPM().get_velocity(x0, eps, t), rtol=0, atol=1e-5)


def test_spacings_match_diffusers():
    for n in (1, 2, 3, 7, 33, 100, 999, 1000):
        for sp in TIMESTEP_SPACINGS:
            h = HFDDPM(timestep_spacing=sp); h.set_timesteps(n)
            assert torch.equal(spaced_timesteps(1000, n, sp), h.timesteps)
    with pytest.raises(ValueError, match='between 1 and'): spaced_timesteps(1000, 1001)
    with pytest.raises(ValueError, match='allowed are leading'): spaced_timesteps(1000, 10, 'even')


def test_shift_and_seeded_noise():
    np.testing.assert_allclose(shift_sigmas(torch.tensor([0.0, 0.5, 1.0]), 3.0), [0.0, 0.75, 1.0])
    assert torch.equal(shift_sigmas(torch.tensor([0.3]), 1.0), torch.tensor([0.3]))
    from diffusers.utils.torch_utils import randn_tensor
    a = randn((2, 3), torch.Generator().manual_seed(3))
    assert torch.equal(a, randn_tensor((2, 3), generator=torch.Generator().manual_seed(3)))
    assert not torch.equal(a, randn((2, 3), torch.Generator().manual_seed(4)))


@settings(**SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), schedule=st.sampled_from(BETA_SCHEDULES), shift=st.floats(1.0, 6.0),
       n=st.integers(1, 60))
def test_scheduler_objects_match_diffusers(seed, schedule, shift, n):
    "VPSchedule and FlowSchedule on their own (no step): diffusers' forward process, timesteps and config."
    from diffusers import FlowMatchEulerDiscreteScheduler as HFFlow
    g = torch.Generator().manual_seed(seed)
    x0, eps = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)
    vp, hf = VPSchedule(beta_schedule=schedule), HFDDPM(beta_schedule=schedule)
    t = vp.sample_timesteps(3, g)
    torch.testing.assert_close(vp.add_noise(x0, eps, t), hf.add_noise(x0, eps, t), rtol=0, atol=1e-5)
    assert VPSchedule.from_config(hf.config).config == vp.config
    vp.set_timesteps(n)
    hf.set_timesteps(n)
    assert torch.equal(vp.timesteps, hf.timesteps)
    fs, hff = FlowSchedule(shift=shift), HFFlow(shift=shift)
    fs.set_timesteps(n)
    hff.set_timesteps(n)
    assert torch.equal(fs.timesteps, hff.timesteps) and torch.equal(fs.sigmas, hff.sigmas)
    ts = fs.timesteps[torch.randint(n, (3,), generator=g)]
    torch.testing.assert_close(fs.scale_noise(x0, ts, eps), hff.scale_noise(x0, ts, eps))
