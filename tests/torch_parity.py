#!/usr/bin/python3
"""Regenerates the PyTorch parity fixtures of libaifxnn (tests/fixtures/torch_lstm_l{1,2}.txt).

Run from anywhere with Debian's system Python (python3-torch, python3-numpy):

    /usr/bin/python3 tests/torch_parity.py

The output is deterministic (fixed seeds, one thread, float32, no dates): a rerun gives the same
bytes. CI does not run this script; tests/check_parity.c reads the committed fixtures.

Model, per fixture (L = 1 and L = 2 stacked layers):
    B=4 sequences, T=5 steps, F=6 features, H=7 hidden units, C=3 classes
    nn.LSTM(F, H, num_layers=L, batch_first=True) -> output of the last step (B, H)
    -> nn.Linear(H, C) -> nn.CrossEntropyLoss(weight=[1, 1, 0.5]) (mean: sum w_y l / sum w_y)
    torch.optim.Adam(lr=1e-2, betas=(0.9, 0.999), eps=1e-8), no weight decay, no dropout.
    Adam updates every parameter except bias_hh_l*, which stays at its initial value: PyTorch's
    two biases get the same gradient, so stepping both would move their sum twice as far as the
    library's single bias moves. (The gradients recorded in `grads` are those of all parameters.)
Weights are PyTorch's own random init (U(-1/sqrt(H), 1/sqrt(H))); b_ih and b_hh are both random
and different, so the mapping "library bias = b_ih + b_hh" is exercised.

File format (plain text, '\n' line ends):
    - Lines starting with '#' are comments (generator, torch version, model description).
    - `config B T F H L C`: six decimal integers.
    - Then tensors, each a header line `tensor <name> <count>` (float32 values) or
      `itensor <name> <count>` (integers), followed by exactly one line holding <count> values
      separated by single spaces. Floats are printed with '%.9g', which round-trips float32
      exactly (strtof gives back the same bits).
    - Tensors, in this order:
        x              (B*T*F)   input, batch-first, x[(b*T + t)*F + f]
        labels         (B)       itensor, class indices in [0, C)
        class_weights  (C)
        params0        (n)       initial parameters in the library's flat order (below)
        probs          (B*C)     softmax of the logits
        loss           (1)
        h_last         (B*H)     top layer's hidden state at the last step
        seq            (B*T*H)   top layer's hidden states, all steps
        grads          (n)       d loss / d params, same flat order
        dx             (B*T*F)   d loss / d x
        loss_step<k>   (1)       k = 1..3: the loss computed just before Adam step k
        params_step<k> (n)       k = 1..3: the parameters just after Adam step k
      Each Adam step is zero_grad, forward, loss, backward, step on the same batch.

Library flat parameter order (row-major, concatenated, no padding), n = sum of the sizes:
    for each layer l:  W_ih (4H, n_in_l) = weight_ih_l{l}      (n_in_0 = F, n_in_l = H for l > 0)
                       W_hh (4H, H)      = weight_hh_l{l}
                       b    (4H)         = bias_ih_l{l} + bias_hh_l{l}
    dense:             W    (C, H)       = linear.weight
                       b    (C)          = linear.bias
Gate blocks within 4H are i, f, g, o in both. The gradient of the summed bias equals PyTorch's
gradient of bias_ih_l{l}, which equals that of bias_hh_l{l} (asserted below).
"""

import os
import sys

import torch
import torch.nn as nn

B, T, F, H, C = 4, 5, 6, 7, 3
LABELS = [2, 0, 1, 2]  # every class present; class 2 (weight 0.5) twice
CLASS_WEIGHTS = [1.0, 1.0, 0.5]
LR, BETAS, EPS = 1e-2, (0.9, 0.999), 1e-8
N_STEPS = 3
SEEDS = {1: 20240101, 2: 20240102}

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "fixtures")


class Model(nn.Module):
    def __init__(self, n_layers):
        super().__init__()
        self.lstm = nn.LSTM(F, H, num_layers=n_layers, batch_first=True)
        self.linear = nn.Linear(H, C)

    def forward(self, x):
        seq, (h_n, _) = self.lstm(x)  # seq (B, T, H), h_n (L, B, H)
        h_last = seq[:, -1, :]
        assert torch.equal(h_last, h_n[-1])
        return self.linear(h_last), h_last, seq


def flat_params(model, n_layers):
    parts = []
    for l in range(n_layers):
        parts.append(getattr(model.lstm, "weight_ih_l%d" % l).detach().reshape(-1))
        parts.append(getattr(model.lstm, "weight_hh_l%d" % l).detach().reshape(-1))
        b_ih = getattr(model.lstm, "bias_ih_l%d" % l).detach()
        b_hh = getattr(model.lstm, "bias_hh_l%d" % l).detach()
        parts.append((b_ih + b_hh).reshape(-1))
    parts.append(model.linear.weight.detach().reshape(-1))
    parts.append(model.linear.bias.detach().reshape(-1))
    return torch.cat(parts)


def flat_grads(model, n_layers):
    parts = []
    for l in range(n_layers):
        parts.append(getattr(model.lstm, "weight_ih_l%d" % l).grad.reshape(-1))
        parts.append(getattr(model.lstm, "weight_hh_l%d" % l).grad.reshape(-1))
        g_ih = getattr(model.lstm, "bias_ih_l%d" % l).grad
        g_hh = getattr(model.lstm, "bias_hh_l%d" % l).grad
        # d loss / d (b_ih + b_hh) = d loss / d b_ih = d loss / d b_hh
        assert torch.allclose(g_ih, g_hh, rtol=0.0, atol=1e-7), "bias grads differ, layer %d" % l
        parts.append(g_ih.reshape(-1))
    parts.append(model.linear.weight.grad.reshape(-1))
    parts.append(model.linear.bias.grad.reshape(-1))
    return torch.cat(parts).detach()


def fmt_floats(t):
    values = t.detach().to(torch.float32).reshape(-1).tolist()
    return " ".join("%.9g" % v for v in values)


def generate(n_layers):
    torch.manual_seed(SEEDS[n_layers])
    model = Model(n_layers)
    for l in range(n_layers):
        b_ih = getattr(model.lstm, "bias_ih_l%d" % l).detach()
        b_hh = getattr(model.lstm, "bias_hh_l%d" % l).detach()
        assert bool((b_hh != 0).all()) and not torch.allclose(b_ih, b_hh)
    x = torch.randn(B, T, F, dtype=torch.float32, requires_grad=True)
    labels = torch.tensor(LABELS, dtype=torch.int64)
    weights = torch.tensor(CLASS_WEIGHTS, dtype=torch.float32)
    criterion = nn.CrossEntropyLoss(weight=weights)
    n_params = sum(p.numel() for p in model.parameters()) - sum(
        getattr(model.lstm, "bias_hh_l%d" % l).numel() for l in range(n_layers))

    out = []
    out.append("# AIFX PyTorch parity fixture, generated by tests/torch_parity.py; do not edit")
    out.append("# torch %s, float32, torch.set_num_threads(1), seed %d"
               % (torch.__version__, SEEDS[n_layers]))
    out.append("# nn.LSTM(F, H, num_layers=L, batch_first=True) + nn.Linear(H, C) on the last step"
               " + CrossEntropyLoss(weight) + Adam(lr=%g, betas=(%g, %g), eps=%g)"
               % (LR, BETAS[0], BETAS[1], EPS))
    out.append("# format and parameter layout: tests/fixtures/README.md")
    out.append("config %d %d %d %d %d %d" % (B, T, F, H, n_layers, C))

    def put(name, t):
        t = t.detach().reshape(-1)
        out.append("tensor %s %d" % (name, t.numel()))
        out.append(fmt_floats(t))

    put("x", x)
    out.append("itensor labels %d" % B)
    out.append(" ".join("%d" % v for v in LABELS))
    put("class_weights", weights)
    params0 = flat_params(model, n_layers)
    assert params0.numel() == n_params
    put("params0", params0)

    logits, h_last, seq = model(x)
    loss = criterion(logits, labels)
    loss.backward()
    probs = torch.softmax(logits, dim=1)
    put("probs", probs)
    put("loss", loss)
    put("h_last", h_last)
    put("seq", seq)
    grads = flat_grads(model, n_layers)
    # Adam's first step moves each parameter by lr * g / (|g| + eps), about lr * sign(g): a
    # gradient within rounding of zero, or comparable to eps, would make params_step1 depend on
    # rounding (its sensitivity is lr * eps / g^2). Keep every gradient well above both; the
    # gradients' rounding error here is about 1e-10.
    min_abs = float(grads.abs().min())
    assert min_abs > 2e-7, "gradient too close to zero (%g); pick another seed" % min_abs
    put("grads", grads)
    put("dx", x.grad)

    xs = x.detach().clone()  # the steps use the same batch, without d/dx
    # Adam over every parameter except bias_hh_l*: those stay fixed at their (nonzero) values.
    # Both biases get the same gradient, so updating both would move their sum by twice Adam's
    # step, while the library has one bias. With bias_hh fixed, b_ih + b_hh moves exactly as the
    # library's bias does under the same gradient.
    frozen = {id(getattr(model.lstm, "bias_hh_l%d" % l)) for l in range(n_layers)}
    opt = torch.optim.Adam([p for p in model.parameters() if id(p) not in frozen],
                           lr=LR, betas=BETAS, eps=EPS)
    for k in range(1, N_STEPS + 1):
        opt.zero_grad()
        logits, _, _ = model(xs)
        loss = criterion(logits, labels)
        loss.backward()
        opt.step()
        put("loss_step%d" % k, loss)
        put("params_step%d" % k, flat_params(model, n_layers))

    return "\n".join(out) + "\n", min_abs


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    for n_layers in (1, 2):
        text, min_abs = generate(n_layers)
        path = os.path.join(OUT_DIR, "torch_lstm_l%d.txt" % n_layers)
        with open(path, "w", encoding="ascii", newline="\n") as f:
            f.write(text)
        print("wrote %s (%d bytes, min |grad| %.3g)" % (path, len(text), min_abs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
