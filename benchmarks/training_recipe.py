"""The measurements behind the text-to-video training recipe (lesson 11's table): one arm per call, judged by the
evaluator on generated videos of seen and held-out combinations, with the model's sensitivity to each attribute.

    python benchmarks/training_recipe.py --vae default --steps 800                       # video VAE, frozen text encoder, flow
    python benchmarks/training_recipe.py --vae default --steps 800 --train-text-encoder  # the encoder trained jointly
    python benchmarks/training_recipe.py --vae frame-p2 --patch 4 4 4 --steps 800        # frame VAE + (4,4,4) tubelets
    python benchmarks/training_recipe.py --vae default --steps 1600 --objective v_prediction
    python benchmarks/training_recipe.py --vae default --steps 800 --object-weight 4

A trained VAE is kept in --work/vae-<name> and reused. Runs on one thread by default (the machine is shared).
"""
import argparse, json, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
from vidlab.data import ShapesWorld, combinations, caption
from vidlab.tokenizer import caption_tokenizer
from vidlab.text_encoder import TextEncoderConfig, TextEncoder
from vidlab.dit import DiTConfig, VideoDiT
from vidlab.vae import vae_config, encode_video, decode_video
from vidlab.vae_training import train_vae, save_vae, load_vae
from vidlab.samplers import DDPMScheduler, DDIMScheduler, FlowMatchEulerScheduler, sample
from vidlab.evaluation import prompt_fidelity
from vidlab.training import Learner, LRSchedule, GradClip, EMA, NaNGuard, CondDropout, Evaluate, diffusion_loss

VAES = {'default': ('default', {}), 'frame-p2': ('frame', dict(patch_size=2, widths=(32,))),
        'frame': ('frame', {}), 'video-c8': ('default', dict(latent_channels=8))}
MAX_LENGTH, FRAMES, SIZE = 8, 16, 32


class Arm(torch.nn.Module):
    "Text encoder + transformer over a frozen VAE's latents, with the scheduler of the objective."
    def __init__(self, vae, args):
        super().__init__()
        self.tok, self.vae, self.flow = caption_tokenizer(), vae.requires_grad_(False), args.objective == 'flow'
        self.te = TextEncoder(TextEncoderConfig(vocab_size=self.tok.vocab_size, max_len=16, d_model=64, n_heads=4,
                                                n_layers=2, d_ff=256), seed=args.seed)
        self.te.requires_grad_(args.train_text_encoder)
        c = vae.config.latent_channels
        self.dit = VideoDiT(DiTConfig(in_channels=c, patch_size=tuple(args.patch), dim=args.dim, depth=args.depth,
                                      heads=4, text_dim=64, attention=args.attention), seed=args.seed)
        self.train_sched = (FlowMatchEulerScheduler(shift=args.shift) if self.flow else
                            DDPMScheduler(beta_schedule='squaredcos_cap_v2', prediction_type='v_prediction',
                                          clip_sample=False, timestep_spacing='trailing'))

    def text(self, ids, mask):
        o = self.te(ids, mask)
        return o.last_hidden_state, o.pooler_output

    @torch.no_grad()
    def generate(self, prompts, guidance=4.0, steps=25, seed=0, batch_size=100):
        out = []
        for i in range(0, len(prompts), batch_size):
            ps = list(prompts[i:i + batch_size])
            tb = self.tok.encode([''] * len(ps) + ps, max_length=MAX_LENGTH)
            st, pooled = self.text(tb.input_ids, tb.attention_mask)
            ctx = self.dit.encode_text(st, tb.attention_mask, pooled)
            sched = (FlowMatchEulerScheduler.from_config(self.train_sched.config) if self.flow
                     else DDIMScheduler.from_config(self.train_sched.config))
            z = sample(lambda x, t: self.dit(x, t, context=ctx), sched, (len(ps), *self.vae.latent_shape(FRAMES, SIZE, SIZE)),
                       steps, guidance, seed=seed + i)
            out.append(decode_video(self.vae, z))
        return torch.cat(out)


def get_vae(name, work, seed):
    d = Path(work) / f'vae-{name}'
    if (d / 'config.json').exists(): return load_vae(d, device='cpu'), None
    preset, over = VAES[name]
    t = time.process_time()
    vae, _ = train_vae(vae_config(preset, **over), progress=False, seed=seed, device='cpu')
    save_vae(vae, d)
    return vae, time.process_time() - t


@torch.no_grad()
def cache(vae, n, seed):
    world = ShapesWorld('train', seed=seed)
    lat, objs, caps = [], [], []
    for i in range(0, n, 64):
        b = world.batch(range(i, min(n, i + 64)))
        z = encode_video(vae, b['video'])  # (b, f', c, h', w')
        m = (b['video'].amax(2, keepdim=True) > 0.05).float().transpose(1, 2)  # (b, 1, f, h, w)
        objs.append(F.adaptive_max_pool3d(m, z.shape[1:2] + z.shape[3:]).transpose(1, 2))
        lat.append(z); caps += b['caption']
    return torch.cat(lat), torch.cat(objs), caps


def fidelity(model, n, guidance, seed=0):
    rs = np.random.RandomState(seed)
    seen = list(rs.choice([caption(**c) for c in combinations('train')], n))
    held = list(rs.choice([caption(**c) for c in combinations('heldout')], n))
    v = model.generate(seen + held, guidance=guidance)
    return prompt_fidelity(v[:n], seen), prompt_fidelity(v[n:], held)


@torch.no_grad()
def sensitivity(model, t=900.0):
    "How much the transformer's output moves when one word of the prompt changes (direction, colour, shape, size)."
    ps = ['a large red circle moving left', 'a large red circle moving right', 'a large blue circle moving left',
          'a large red square moving left', 'a small red circle moving left']
    tb = model.tok.encode(ps, max_length=MAX_LENGTH)
    x = torch.randn(1, *model.vae.latent_shape(FRAMES, SIZE, SIZE), generator=torch.Generator().manual_seed(0)).expand(len(ps), -1, -1, -1, -1)
    st, pooled = model.text(tb.input_ids, tb.attention_mask)
    out = model.dit(x, torch.full((len(ps),), t), st, tb.attention_mask, pooled)
    return dict(zip(['direction', 'colour', 'shape', 'size'], [round((out[i] - out[0]).norm().item(), 2) for i in range(1, 5)]))


def main(a):
    torch.set_num_threads(a.threads)
    vae, vae_cpu = get_vae(a.vae, a.work, a.seed)
    t0 = time.process_time()
    lat, objs, caps = cache(vae, a.clips, a.seed)
    model = Arm(vae, a)
    names = sorted(set(caps)); tb = model.tok.encode(names, max_length=MAX_LENGTH)
    which = torch.tensor([names.index(c) for c in caps])
    sched = model.train_sched

    def data_fn(g):
        i = torch.randint(0, len(lat), (a.batch_size,), generator=g)
        x0, noise = lat[i], torch.randn(lat[i].shape, generator=g)
        t = sched.sample_timesteps(a.batch_size, generator=g)
        return dict(x0=x0, noise=noise, t=t, weight=1 + a.object_weight * objs[i], ids=tb.input_ids[which[i]],
                    mask=tb.attention_mask[which[i]])

    def loss_fn(m, b):
        st, pooled = m.text(b['ids'], b['mask'])
        fn = lambda x, t: m.dit(x, t, st, b['mask'], pooled)
        if not a.object_weight: return diffusion_loss(fn, sched, b['x0'], b['noise'], b['t'])  # the one training step
        # the object-weighted arm: the same step with a per-voxel weight on the squared error (diffusion_loss has none)
        err = fn(sched.add_noise(b['x0'], b['noise'], b['t']), b['t']) - sched.training_target(b['x0'], b['noise'], b['t'])
        return (err ** 2 * b['weight']).mean()

    empty = model.tok.encode([''], max_length=MAX_LENGTH)
    cbs = [LRSchedule(a.warmup), GradClip(1.0), EMA(0.999), NaNGuard(),
           CondDropout(dict(ids=empty.input_ids[0], mask=empty.attention_mask[0]), p=0.1)]
    if a.eval_every:
        cbs.append(Evaluate(lambda m: {f'{s}_all': r['all'] for s, r in zip(('seen', 'held'), fidelity(m, 48, a.guidance))}, a.eval_every))
    learn = Learner(model, loss_fn, data_fn, opt=torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                    lr=a.lr, weight_decay=0.0), cbs=cbs, seed=a.seed).fit(a.steps)
    cpu = time.process_time() - t0
    learn.find_cb(EMA).copy_to(model); model.eval()
    seen, held = fidelity(model, a.videos, a.guidance)
    print(json.dumps(dict(args=vars(a), vae_cpu_s=vae_cpu and round(vae_cpu), transformer_cpu_s=round(cpu),
                          first_loss=round(float(np.mean([h['loss'] for h in learn.history[:20]])), 4),
                          final_loss=round(float(np.mean([h['loss'] for h in learn.history[-50:]])), 4),
                          sensitivity=sensitivity(model), evals=learn.evals, seen=seen, heldout=held)))


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--vae', choices=list(VAES), default='default')
    p.add_argument('--patch', type=int, nargs=3, default=[1, 2, 2])
    p.add_argument('--objective', choices=['flow', 'v_prediction'], default='flow')
    p.add_argument('--shift', type=float, default=3.0, help='flow timestep shift')
    p.add_argument('--train-text-encoder', action='store_true')
    p.add_argument('--object-weight', type=float, default=0.0)
    p.add_argument('--attention', default='factorized')
    p.add_argument('--dim', type=int, default=128); p.add_argument('--depth', type=int, default=4)
    p.add_argument('--steps', type=int, default=800); p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--lr', type=float, default=2e-3); p.add_argument('--warmup', type=int, default=100)
    p.add_argument('--clips', type=int, default=2048, help='training clips in the latent cache')
    p.add_argument('--guidance', type=float, default=4.0); p.add_argument('--videos', type=int, default=100)
    p.add_argument('--eval-every', type=int, default=0); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1); p.add_argument('--work', default='/tmp/vidlab-recipe')
    main(p.parse_args())
