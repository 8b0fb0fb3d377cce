"Reference solutions of lesson 08's exercises: each check passes them, and rejects a typical wrong answer with a hint."
from vidlab.samplers import check_classifier_free_guidance, check_ddim_step_v, check_euler_sample


def guide(uncond, cond, scale):
    return uncond + scale * (cond - uncond)

def ddim_step_v(v_hat, x_t, ab_t, ab_prev):
    alpha, sigma = ab_t.sqrt(), (1 - ab_t).sqrt()
    x0_hat, eps_hat = alpha * x_t - sigma * v_hat, sigma * x_t + alpha * v_hat  # lesson 07: v -> (x0, eps)
    return ab_prev.sqrt() * x0_hat + (1 - ab_prev).sqrt() * eps_hat  # Song et al. eq. 12, eta = 0

def euler_sample(velocity_fn, x, sigmas):
    for i in range(len(sigmas) - 1):
        x = x + (sigmas[i + 1] - sigmas[i]) * velocity_fn(x, float(sigmas[i]))
    return x

def unfinished(*args):
    raise NotImplementedError  # your code here


def test_classifier_free_guidance(verdicts):
    verdicts.accepted(check_classifier_free_guidance, guide)
    verdicts.rejected(check_classifier_free_guidance, lambda u, c, w: c + w * (c - u), 'their 1 + w')
    verdicts.rejected(check_classifier_free_guidance, lambda u, c, w: c + w * (u - c), 'swapped')
    verdicts.rejected(check_classifier_free_guidance, lambda u, c, w: u + w * c, 'difference')
    verdicts.rejected(check_classifier_free_guidance, unfinished, 'NotImplementedError')


def test_ddim_step_v(verdicts):
    verdicts.accepted(check_ddim_step_v, ddim_step_v)
    def as_if_eps(v, x, ab_t, ab_prev):  # treats v as the noise
        x0 = (x - (1 - ab_t).sqrt() * v) / ab_t.sqrt()
        return ab_prev.sqrt() * x0 + (1 - ab_prev).sqrt() * v
    verdicts.rejected(check_ddim_step_v, as_if_eps, 'v is not the noise')
    verdicts.rejected(check_ddim_step_v, lambda v, x, ab_t, ab_prev: x, 'differ')


def test_euler_sample(verdicts):
    verdicts.accepted(check_euler_sample, euler_sample)
    def wrong_sign(velocity_fn, x, sigmas):
        for i in range(len(sigmas) - 1): x = x + (sigmas[i] - sigmas[i + 1]) * velocity_fn(x, float(sigmas[i]))
        return x
    verdicts.rejected(check_euler_sample, wrong_sign, 'sign')
    def one_short(velocity_fn, x, sigmas):
        return euler_sample(velocity_fn, x, sigmas[:-1])
    verdicts.rejected(check_euler_sample, one_short, 'differ')
    verdicts.rejected(check_euler_sample, unfinished, 'NotImplementedError')
