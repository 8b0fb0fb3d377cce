"Reference solutions of lesson 21's exercises: each check passes them and fails (with a hint) a typical wrong answer."
from vidlab.finetuning import check_lora_forward, check_merge, check_lora_numbers


def lora_forward(x, W, b, A, B, alpha): return x @ W.T + b + (alpha / A.shape[0]) * ((x @ A.T) @ B.T)

def merge(W, A, B, alpha): return W + (alpha / A.shape[0]) * (B @ A)

def lora_numbers(shapes, r): return sum(r * (d + k) for d, k in shapes)


def test_lora_forward(verdicts):
    verdicts.accepted(check_lora_forward, lora_forward)
    verdicts.rejected(check_lora_forward, lambda x, W, b, A, B, alpha: x @ W.T + b + x @ A.T @ B.T, 'scaled by alpha / r')
    verdicts.rejected(check_lora_forward, lambda *a: None, 'return')


def test_merge(verdicts):
    verdicts.accepted(check_merge, merge)
    verdicts.rejected(check_merge, lambda W, A, B, alpha: W + B @ A, 'alpha / r')
    verdicts.rejected(check_merge, lambda W, A, B, alpha: W, 'W + (alpha / r) B A')


def test_lora_numbers(verdicts):
    verdicts.accepted(check_lora_numbers, lora_numbers)
    verdicts.rejected(check_lora_numbers, lambda shapes, r: sum(d * k for d, k in shapes), 'full weights')
    verdicts.rejected(check_lora_numbers, lambda shapes, r: sum(r * d for d, k in shapes), 'A (r, k) and B (d, r)')
