"Property tests for vidlab.samplers: scheduler identities across random t, step equivalence with diffusers over random configs, the loop."
import copy, pickle
import pytest
import torch
from hypothesis import given, settings, strategies as st, HealthCheck

from vidlab.diffusion import BETA_SCHEDULES, PREDICTION_TYPES, TIMESTEP_SPACINGS, alpha_bars, make_betas, to_x0_eps
from vidlab.samplers import (DDIMScheduler, DDPMScheduler, FlowMatchEulerScheduler, SchedulerConfig, SchedulerOutput,
                             classifier_free_guidance, denoising_trajectory, diffusers_scheduler, drop_condition,
                             noise_levels, prediction_type_of, sample, trajectory_grid, trajectory_panel)

diffusers = pytest.importorskip('diffusers')
from diffusers import DDIMScheduler as HFDDIM, DDPMScheduler as HFDDPM, FlowMatchEulerDiscreteScheduler as HFFlow

torch.set_num_threads(1)
SETTINGS = dict(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**31 - 1)


def hf_float64(hf):
    "A diffusers VP scheduler reading the float64 schedule (the only state its step uses)."
    c = hf.config
    hf.alphas_cumprod = alpha_bars(make_betas(c.beta_schedule, c.num_train_timesteps, c.beta_start, c.beta_end))
    hf.one = torch.tensor(1.0, dtype=torch.float64)
    if hasattr(hf, 'final_alpha_cumprod'):
        hf.final_alpha_cumprod = torch.tensor(1.0, dtype=torch.float64) if c.set_alpha_to_one else hf.alphas_cumprod[0]
    return hf


def max_rel_diff(a, b):
    "max |a - b| / max(1, |b|): absolute for values up to 1, relative above (lesson 08's comparison)."
    return ((a.double() - b.double()).abs() / b.double().abs().clamp(min=1)).max().item()


# ---------------------------------------------------------------- the forward process, scheduler side

@settings(**SETTINGS)
@given(seed=seeds, schedule=st.sampled_from(BETA_SCHEDULES), pred=st.sampled_from(PREDICTION_TYPES[:3]),
       T=st.sampled_from([50, 1000]))
def test_vp_add_noise_and_target_identities(seed, schedule, pred, T):
    g = torch.Generator().manual_seed(seed)
    sch = DDPMScheduler(num_train_timesteps=T, beta_schedule=schedule, prediction_type=pred)
    x0, eps = torch.randn(6, 2, 3, generator=g, dtype=torch.float64), torch.randn(6, 2, 3, generator=g, dtype=torch.float64)
    t = sch.sample_timesteps(6, g)
    assert t.dtype == torch.int64 and 0 <= t.min() and t.max() < T
    ab = alpha_bars(make_betas(schedule, T))[t][:, None, None]
    x_t = sch.add_noise(x0, eps, t)
    torch.testing.assert_close(x_t, ab.sqrt() * x0 + (1 - ab).sqrt() * eps, rtol=0, atol=1e-12)  # Ho et al. eq. 4
    assert torch.equal(x_t, DDIMScheduler.from_config(sch.config).add_noise(x0, eps, t))
    alpha, sigma = sch.noise_levels(t)
    got_x0, got_eps = to_x0_eps(sch.training_target(x0, eps, t), x_t, alpha, sigma, pred)
    torch.testing.assert_close(got_x0, x0, rtol=0, atol=1e-6); torch.testing.assert_close(got_eps, eps, rtol=0, atol=1e-6)
    hf = HFDDPM(num_train_timesteps=T, beta_schedule=schedule)
    torch.testing.assert_close(sch.get_velocity(x0, eps, t), hf.get_velocity(x0, eps, t), rtol=0, atol=1e-5)


@settings(**SETTINGS)
@given(seed=seeds, shift=st.floats(1.0, 6.0))
def test_flow_add_noise_identities(seed, shift):
    g = torch.Generator().manual_seed(seed)
    sch = FlowMatchEulerScheduler(shift=shift)
    x0, eps = torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)
    t = sch.sample_timesteps(4, g)
    assert 0 <= t.min() and t.max() <= 1000
    s = (t / 1000)[:, None]
    torch.testing.assert_close(sch.add_noise(x0, eps, t), (1 - s) * x0 + s * eps)
    torch.testing.assert_close(sch.scale_noise(x0, t, eps), sch.add_noise(x0, eps, t))
    torch.testing.assert_close(sch.training_target(x0, eps, t), eps - x0)
    torch.testing.assert_close(sch.add_noise(x0, eps, torch.tensor(0.0)), x0)
    torch.testing.assert_close(sch.add_noise(x0, eps, torch.tensor(1000.0)), eps)


# ---------------------------------------------------------------- equivalence with diffusers, step by step

def _compare(ours, hf, n, seed, **kw):
    ours.set_timesteps(n); hf.set_timesteps(n)
    assert torch.equal(ours.timesteps, hf.timesteps)
    g, worst = torch.Generator().manual_seed(seed), 0.0
    for t in ours.timesteps:
        x, out = torch.randn(2, 3, 4, generator=g, dtype=torch.float64), torch.randn(2, 3, 4, generator=g, dtype=torch.float64)
        a = ours.step(out, t, x, generator=torch.Generator().manual_seed(int(t)), **kw)
        b = hf.step(out, t, x, generator=torch.Generator().manual_seed(int(t)), **kw)
        worst = max(worst, max_rel_diff(a.prev_sample, b.prev_sample), max_rel_diff(a.pred_original_sample, b.pred_original_sample))
    return worst


@settings(**SETTINGS)
@given(seed=seeds, schedule=st.sampled_from(BETA_SCHEDULES), pred=st.sampled_from(PREDICTION_TYPES[:3]),
       clip=st.booleans(), spacing=st.sampled_from(TIMESTEP_SPACINGS), T=st.sampled_from([100, 1000]), n=st.integers(1, 40))
def test_ddpm_matches_diffusers(seed, schedule, pred, clip, spacing, T, n):
    kw = dict(num_train_timesteps=T, beta_schedule=schedule, prediction_type=pred, clip_sample=clip, timestep_spacing=spacing)
    assert _compare(DDPMScheduler(**kw), hf_float64(HFDDPM(**kw)), n, seed) < 1e-10


@settings(**SETTINGS)
@given(seed=seeds, schedule=st.sampled_from(BETA_SCHEDULES), pred=st.sampled_from(PREDICTION_TYPES[:3]),
       clip=st.booleans(), spacing=st.sampled_from(TIMESTEP_SPACINGS), one=st.booleans(), offset=st.integers(0, 1),
       n=st.integers(1, 40), eta=st.sampled_from([0.0, 0.25, 1.0]))
def test_ddim_matches_diffusers(seed, schedule, pred, clip, spacing, one, offset, n, eta):
    kw = dict(beta_schedule=schedule, prediction_type=pred, clip_sample=clip, timestep_spacing=spacing,
              set_alpha_to_one=one, steps_offset=offset if spacing == 'leading' else 0)
    assert _compare(DDIMScheduler(**kw), hf_float64(HFDDIM(**kw)), n, seed, eta=eta) < 1e-10


@settings(**SETTINGS)
@given(seed=seeds, schedule=st.sampled_from(BETA_SCHEDULES), pred=st.sampled_from(PREDICTION_TYPES[:3]), n=st.integers(2, 30))
def test_stock_float32_diffusers_close(seed, schedule, pred, n):
    "Against diffusers' own float32 tables: agreement limited by diffusers' float32 cancellation (1 - alpha-bar near t = 0)."
    for Ours, Theirs, kw in ((DDPMScheduler, HFDDPM, {}), (DDIMScheduler, HFDDIM, dict(eta=0.0))):
        cfg = dict(beta_schedule=schedule, prediction_type=pred)
        ours, hf = Ours(**cfg), Theirs(**cfg)
        ours.set_timesteps(n); hf.set_timesteps(n)
        g = torch.Generator().manual_seed(seed)
        for t in ours.timesteps:
            x, out = torch.randn(2, 8, generator=g), torch.randn(2, 8, generator=g)
            a = ours.step(out, t, x, generator=torch.Generator().manual_seed(0), **kw)
            b = hf.step(out, t, x, generator=torch.Generator().manual_seed(0), **kw)
            assert a.prev_sample.dtype == torch.float32
            assert max_rel_diff(a.prev_sample, b.prev_sample) < 1e-3 and max_rel_diff(a.pred_original_sample, b.pred_original_sample) < 1e-3


@settings(**SETTINGS)
@given(seed=seeds, shift=st.sampled_from([1.0, 2.0, 3.0, 7.5]), n=st.integers(1, 50), stochastic=st.booleans())
def test_flow_matches_diffusers(seed, shift, n, stochastic):
    ours, hf = FlowMatchEulerScheduler(shift=shift, stochastic_sampling=stochastic), HFFlow(shift=shift, stochastic_sampling=stochastic)
    ours.set_timesteps(n); hf.set_timesteps(n)
    assert torch.equal(ours.timesteps, hf.timesteps) and torch.equal(ours.sigmas, hf.sigmas)
    g = torch.Generator().manual_seed(seed)
    for j, t in enumerate(hf.timesteps):
        x, v = torch.randn(2, 6, generator=g), torch.randn(2, 6, generator=g)
        a = ours.step(v, t, x, generator=torch.Generator().manual_seed(j))
        b = hf.step(v, t, x, generator=torch.Generator().manual_seed(j))
        torch.testing.assert_close(a.prev_sample, b.prev_sample, rtol=0, atol=1e-6)
        torch.testing.assert_close(a.pred_original_sample, x - hf.sigmas[j] * v, rtol=0, atol=1e-6)


# ---------------------------------------------------------------- loops, both directions

def _toy(x, t):
    return torch.tanh(0.7 * x + t.reshape(-1, *[1] * (x.ndim - 1)).to(x.dtype) / 1000)

def _toy_guided(x, t):
    out, b = _toy(x, t), len(x) // 2
    return torch.cat([out[:b], out[b:] + 0.3])

@pytest.mark.parametrize('ours,theirs,eta', [(DDPMScheduler, HFDDPM, 0.0), (DDIMScheduler, HFDDIM, 0.0),
                                             (DDIMScheduler, HFDDIM, 1.0), (FlowMatchEulerScheduler, HFFlow, 0.0)])
@pytest.mark.parametrize('w', [1.0, 3.0])
def test_full_loops_match(ours, theirs, eta, w):
    fn = _toy_guided if w != 1 else _toy
    a = sample(fn, ours(), (2, 3, 4), 15, guidance_scale=w, eta=eta, seed=5, device='cpu')
    b = sample(fn, theirs(), (2, 3, 4), 15, guidance_scale=w, eta=eta, seed=5, device='cpu')
    assert (a - b).abs().max() < 1e-5


@pytest.mark.parametrize('ours,theirs', [(DDPMScheduler, HFDDPM), (DDIMScheduler, HFDDIM), (FlowMatchEulerScheduler, HFFlow)])
def test_ours_in_diffusers_style_loop(ours, theirs):
    def loop(s):
        g = torch.Generator().manual_seed(3)
        x = torch.randn((2, 5), generator=g)
        s.set_timesteps(12)
        for t in s.timesteps:
            x = s.step(_toy(x, t.expand(2)), t, x, generator=g, return_dict=False)[0]
        return x
    assert (loop(ours()) - loop(theirs())).abs().max() < 1e-5


def test_sample_is_deterministic_and_seeded():
    a = sample(_toy, DDPMScheduler(), (2, 4), 10, seed=1, device='cpu')
    assert torch.equal(a, sample(_toy, DDPMScheduler(), (2, 4), 10, seed=1, device='cpu'))
    assert not torch.equal(a, sample(_toy, DDPMScheduler(), (2, 4), 10, seed=2, device='cpu'))
    assert torch.equal(a, sample(_toy, DDPMScheduler(), (2, 4), 10, generator=torch.Generator().manual_seed(1), device='cpu'))


def test_cfg():
    u, c = torch.randn(3), torch.randn(3)
    torch.testing.assert_close(classifier_free_guidance(u, c, 1.0), c)
    torch.testing.assert_close(classifier_free_guidance(u, c, 0.0), u)
    torch.testing.assert_close(classifier_free_guidance(u, c, 3.0), 3 * c - 2 * u)


# ---------------------------------------------------------------- contract details and errors

@settings(**SETTINGS)
@given(seed=seeds, which=st.sampled_from(['ddpm', 'ddim', 'flow']))
def test_per_sample_timesteps(seed, which):
    sch = dict(ddpm=DDPMScheduler(clip_sample=False), ddim=DDIMScheduler(clip_sample=False), flow=FlowMatchEulerScheduler(shift=2.0))[which]
    sch.set_timesteps(10)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, 10, (4,), generator=g)
    ts = sch.timesteps[idx]
    x, out = torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(4, 3, generator=g, dtype=torch.float64)
    res = sch.step(out, ts, x, generator=torch.Generator().manual_seed(0))
    for k in range(4):
        one = sch.step(out[k:k + 1], ts[k], x[k:k + 1], generator=torch.Generator().manual_seed(0))
        torch.testing.assert_close(res.pred_original_sample[k], one.pred_original_sample[0], rtol=0, atol=1e-12)
        if which != 'ddpm': torch.testing.assert_close(res.prev_sample[k], one.prev_sample[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize('ours,theirs,kw', [
    (DDPMScheduler, HFDDPM, dict(beta_schedule='squaredcos_cap_v2', prediction_type='v_prediction', clip_sample=False)),
    (DDIMScheduler, HFDDIM, dict(timestep_spacing='trailing', set_alpha_to_one=False)),
    (FlowMatchEulerScheduler, HFFlow, dict(shift=3.0, stochastic_sampling=True))])
def test_config_round_trips(ours, theirs, kw):
    s = ours(**kw)
    assert isinstance(s.config, SchedulerConfig) and ours.from_config(s.config).config == s.config
    assert ours.from_config(theirs(**kw).config).config == s.config
    t = theirs.from_config(s.config)
    assert all(t.config[k] == v for k, v in s.config.items())
    assert copy.deepcopy(s.config) == s.config and pickle.loads(pickle.dumps(s.config)) == s.config
    with pytest.raises(TypeError, match='read-only'): s.config['shift'] = 2
    with pytest.raises(ValueError, match='has no setting'): ours.from_config(s.config, bogus=1)


def test_clear_errors():
    with pytest.raises(ValueError, match='allowed are linear'): DDPMScheduler(beta_schedule='cosine')
    with pytest.raises(ValueError, match='allowed are epsilon, sample, v_prediction'): DDIMScheduler(prediction_type='flow')
    with pytest.raises(ValueError, match='allowed are leading'): DDPMScheduler(timestep_spacing='even')
    with pytest.raises(ValueError, match='does not implement thresholding'): DDPMScheduler.from_config(HFDDPM(thresholding=True).config)
    with pytest.raises(ValueError, match='does not implement use_karras_sigmas'): FlowMatchEulerScheduler.from_config(dict(use_karras_sigmas=True))
    with pytest.raises(ValueError, match='between 1 and'): DDPMScheduler().set_timesteps(1001)
    with pytest.raises(ValueError, match='set_timesteps'): DDIMScheduler().step(torch.zeros(1), 5, torch.zeros(1))
    with pytest.raises(ValueError, match='set_timesteps'): FlowMatchEulerScheduler().step(torch.zeros(1), 5.0, torch.zeros(1))
    s = DDIMScheduler(); s.set_timesteps(5)
    with pytest.raises(ValueError, match='eta must be in'): s.step(torch.zeros(1), 0, torch.zeros(1), eta=2.0)
    with pytest.raises(ValueError, match='outside'): DDPMScheduler().step(torch.zeros(1), 1000, torch.zeros(1))
    with pytest.raises(ValueError, match='takes no eta'): sample(_toy, DDPMScheduler(), (1, 2), 3, eta=0.5, seed=0, device='cpu')
    with pytest.raises(ValueError, match='shift must be positive'): FlowMatchEulerScheduler(shift=0)


def _one_point_denoiser(datum, scheduler):
    "The exact denoiser of a one-point dataset: x0_hat is always `datum` (epsilon prediction)."
    def model_fn(x, t):
        alpha, sigma = (v.to(x.dtype).reshape(-1, *[1] * (x.ndim - 1)) for v in noise_levels(scheduler, t))
        return (x - alpha * datum) / sigma
    return model_fn


def test_trajectory_shapes_and_pictures():
    sch = DDIMScheduler()
    x_T = torch.randn(1, 4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    datum = torch.rand(1, 4, 3, 8, 8, generator=torch.Generator().manual_seed(1)) * 2 - 1
    traj = denoising_trajectory(_one_point_denoiser(datum, sch), sch, x_T, 6, decode_fn=lambda z: ((z + 1) / 2).clamp(0, 1))
    assert traj.xt.shape == (7, 1, 4, 3, 8, 8) and traj.x0.shape == (6, 1, 4, 3, 8, 8) and torch.equal(traj.timesteps, sch.timesteps)
    assert trajectory_panel(traj, 0).shape == (2 * 9 + 1, 4 * 9 + 1, 3)
    assert trajectory_grid(traj, rows=3).shape == (3 * 9 + 1, 8 * 9 + 1, 3)
    for x0 in (traj.x0[0], traj.x0[-1], traj.xt[-1]):  # a one-point dataset: x0_hat is that point at every step
        torch.testing.assert_close(x0, (datum + 1) / 2, rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match='step must be in 0..6'): trajectory_panel(traj, 7)


def test_diffusers_twins_and_helpers():
    for ours, theirs in [(DDPMScheduler(), HFDDPM), (DDIMScheduler(), HFDDIM), (FlowMatchEulerScheduler(shift=3.0), HFFlow)]:
        twin = diffusers_scheduler(ours)
        assert type(twin) is theirs and twin.config.num_train_timesteps == ours.config.num_train_timesteps
    assert diffusers_scheduler(FlowMatchEulerScheduler(shift=3.0)).config.shift == 3.0
    assert [prediction_type_of(s) for s in (DDPMScheduler(prediction_type='v_prediction'), HFFlow(), FlowMatchEulerScheduler())] == \
        ['v_prediction', 'flow', 'flow']
    ts = torch.tensor([0, 400, 999])
    for ours, theirs in [(DDIMScheduler(beta_schedule='squaredcos_cap_v2'), HFDDIM(beta_schedule='squaredcos_cap_v2')),
                         (FlowMatchEulerScheduler(), HFFlow())]:
        for a, b in zip(noise_levels(ours, ts), noise_levels(theirs, ts)):  # diffusers: float32 alpha-bar
            torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
    out = SchedulerOutput(torch.zeros(1), torch.ones(1))
    assert torch.equal(out[0], torch.zeros(1)) and torch.equal(out[1], torch.ones(1))


def test_lesson_06_objects_reexported_not_redefined():
    "The scheduler base and processes live in vidlab.diffusion; samplers subclass them and re-export config and output."
    import vidlab.diffusion as d
    assert SchedulerConfig is d.SchedulerConfig and SchedulerOutput is d.SchedulerOutput
    assert issubclass(DDPMScheduler, d.VPSchedule) and issubclass(DDIMScheduler, d.VPSchedule)
    assert issubclass(FlowMatchEulerScheduler, d.FlowSchedule) and issubclass(d.VPSchedule, d.Scheduler)


def test_on_step_end_can_pin_latents():
    def pin(i, t, x, x0):
        x = x.clone()
        x[:, 0] = 0.5
        return x
    out = sample(_toy, DDIMScheduler(), (2, 4), 8, seed=3, device='cpu', on_step_end=pin)
    assert torch.equal(out[:, 0], torch.full((2,), 0.5))
    assert torch.equal(sample(_toy, DDIMScheduler(), (2, 4), 8, seed=3, device='cpu', on_step_end=lambda *a: None),
                       sample(_toy, DDIMScheduler(), (2, 4), 8, seed=3, device='cpu'))


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
@pytest.mark.parametrize('make', [lambda: DDPMScheduler(), lambda: DDIMScheduler(), lambda: FlowMatchEulerScheduler(shift=3.0)])
def test_no_host_sync_in_step(make):
    "After set_timesteps and one warm-up step, a whole loop of steps makes no host-device synchronisation."
    sch, dev = make(), torch.device('cuda')
    sch.set_timesteps(20, device=dev)
    g = torch.Generator(device=dev).manual_seed(0)
    x = torch.randn(1, 16, 4, 8, 8, device=dev, generator=g)
    kw = dict(eta=1.0) if isinstance(sch, DDIMScheduler) else {}
    sch.step(torch.zeros_like(x), sch.timesteps[0], x, generator=g, **kw)  # builds the cached tables
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        for t in sch.timesteps: x = sch.step(torch.tanh(x), t, x, generator=g, **kw).prev_sample
    finally: torch.cuda.set_sync_debug_mode(0)
    assert torch.isfinite(x).all()


def test_drop_condition_drops_whole_rows_at_rate_p():
    new, drop = drop_condition(dict(ids=torch.ones(1000, 4)), dict(ids=torch.zeros(4)), 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(new['ids'].sum(1) == 0, drop) and abs(drop.float().mean().item() - 0.3) < 0.05
