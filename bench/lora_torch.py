#!/usr/bin/python3
"""LoRA training step in plain PyTorch, the speed reference of bench/lora_bench.sh: a Llama decoder
(RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU, tied or separate output) with random
frozen weights of a given shape, LoRA (A, B) on the chosen projections, full-batch cross-entropy,
AdamW on the adapter only. Prints one JSON line: tokens per second over the timed steps and the
peak resident memory of the process."""
import argparse
import json
import math
import resource
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("--vocab", type=int, default=32000)
p.add_argument("--embd", type=int, default=768)
p.add_argument("--ff", type=int, default=2048)
p.add_argument("--layers", type=int, default=12)
p.add_argument("--heads", type=int, default=12)
p.add_argument("--kv-heads", type=int, default=12)
p.add_argument("--batch", type=int, default=4)
p.add_argument("--seq", type=int, default=128)
p.add_argument("--rank", type=int, default=8)
p.add_argument("--targets", default="q,v")
p.add_argument("--steps", type=int, default=6)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
hd = a.embd // a.heads
targets = set(a.targets.split(","))


def frozen(*shape):
    return torch.randn(*shape) * 0.02


class Lora(torch.nn.Module):
    def __init__(self, out_f, in_f, rank):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(rank, in_f) / math.sqrt(in_f))
        self.b = torch.nn.Parameter(torch.zeros(out_f, rank))
        self.scale = 2.0

    def forward(self, x):
        return (x @ self.a.t()) @ self.b.t() * self.scale


class Linear(torch.nn.Module):
    def __init__(self, name, out_f, in_f):
        super().__init__()
        self.register_buffer("w", frozen(out_f, in_f))
        self.lora = Lora(out_f, in_f, a.rank) if name in targets else None

    def forward(self, x):
        y = x @ self.w.t()
        return y + self.lora(x) if self.lora is not None else y


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rot * sin


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        kv = a.kv_heads * hd
        self.q, self.k, self.v = Linear("q", a.embd, a.embd), Linear("k", kv, a.embd), Linear("v", kv, a.embd)
        self.o = Linear("o", a.embd, a.embd)
        self.gate, self.up, self.down = Linear("gate", a.ff, a.embd), Linear("up", a.ff, a.embd), Linear("down", a.embd, a.ff)
        self.register_buffer("n1", torch.ones(a.embd))
        self.register_buffer("n2", torch.ones(a.embd))

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        h = rms(x, self.n1)
        q = self.q(h).view(B, T, a.heads, hd).transpose(1, 2)
        k = self.k(h).view(B, T, a.kv_heads, hd).transpose(1, 2)
        v = self.v(h).view(B, T, a.kv_heads, hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        rep = a.heads // a.kv_heads
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, a.embd)
        x = x + self.o(y)
        h = rms(x, self.n2)
        return x + self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("emb", frozen(a.vocab, a.embd))
        self.register_buffer("out", frozen(a.vocab, a.embd))
        self.register_buffer("norm", torch.ones(a.embd))
        self.layers = torch.nn.ModuleList(Layer() for _ in range(a.layers))

    def forward(self, ids):
        T = ids.shape[1]
        pos = torch.arange(T, dtype=torch.float32)
        inv = 10000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
        ang = torch.outer(pos, inv)
        cos, sin = torch.cat((ang.cos(), ang.cos()), -1), torch.cat((ang.sin(), ang.sin()), -1)
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.emb[ids]
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return rms(x, self.norm) @ self.out.t()


model = Model()
params = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.AdamW(params, lr=1e-4)
ids = torch.randint(0, a.vocab, (a.batch, a.seq))
times = []
for step in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    logits = model(ids)
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step >= a.warmup:
        times.append(time.perf_counter() - t0)
print(json.dumps({"tokens_per_second": a.batch * a.seq * len(times) / sum(times),
                  "seconds_per_step": sum(times) / len(times),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "trainable": sum(p.numel() for p in params)}))
