#!/usr/bin/python3
"""torch_lstm.py - the workloads of aifx-bench (issue 4) in PyTorch, with the same JSON fields.

    /usr/bin/python3 bench/torch_lstm.py [--workload W1|W2|W3|all] [--threads N] [--reps R]
                                         [--min-time S] [--no-peak] [--json]

Model: nn.LSTM(38, H, L, batch_first=True) -> last step -> nn.Linear(H, 3), CrossEntropyLoss
with class weights [1, 1, 0.5], torch.optim.Adam(lr=1e-3); x (B, 20, 38) uniform in [-1, 1).
  train    samples/s of zero_grad + forward + backward + Adam step
  infer    sequences/s of a no_grad forward + softmax at batch 256
  latency  median microseconds of one no_grad batch-1 forward + softmax
  rss      ru_maxrss of this process (one process runs every selected workload, so with
           --workload all the figure of a later workload includes the earlier ones; run one
           workload per process for a per-workload figure, as compare.sh does)
FLOPs per training sample use the formula of aifx-bench (docs/performance.md). The sgemm probe
times torch.mm on 2048^3 float32 (Debian's torch calls the system BLAS, i.e. OpenBLAS).

--threads N calls torch.set_num_threads(N); torch does not change OpenBLAS's own threads, so
set OPENBLAS_NUM_THREADS in the environment (compare.sh does). Needs Debian's python3-torch;
nothing in the build or in CI runs this script.
"""
import argparse
import datetime
import json
import os
import resource
import statistics
import sys
import time

import torch

STEPS, FEATURES, CLASSES, INFER_BATCH = 20, 38, 3, 256
WORKLOADS = {"W1": (32, 1, 64), "W2": (64, 2, 128), "W3": (256, 1, 256)}


def train_flops(layers, hidden):
    fwd = 0.0
    for l in range(layers):
        n_in = FEATURES if l == 0 else hidden
        fwd += 2.0 * STEPS * 4.0 * hidden * (n_in + hidden)
    fwd += 2.0 * hidden * CLASSES
    return 3.0 * fwd


def per_call(fn, min_s):
    calls, t0 = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        t1 = time.perf_counter()
        if t1 - t0 >= min_s:
            return (t1 - t0) / calls


def timed(fn, reps, min_s):
    per_call(fn, min_s)  # warm-up
    return statistics.median(per_call(fn, min_s) for _ in range(reps))


class Net(torch.nn.Module):
    def __init__(self, layers, hidden):
        super().__init__()
        self.lstm = torch.nn.LSTM(FEATURES, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, CLASSES)

    def forward(self, x):
        seq, _ = self.lstm(x)
        return self.head(seq[:, -1, :])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def sgemm_probe(reps):
    n = 2048
    a, b = torch.rand(n, n), torch.rand(n, n)
    torch.mm(a, b)
    times = []
    for _ in range(max(reps, 3)):
        t0 = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t0)
    return 2.0 * n ** 3 / statistics.median(times) / 1e9


def run(name, args, peak):
    batch, layers, hidden = WORKLOADS[name]
    torch.manual_seed(42)
    net = Net(layers, hidden)
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 1.0, 0.5]))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(INFER_BATCH, STEPS, FEATURES) * 2 - 1
    xb = x[:batch].contiguous()
    y = torch.randint(0, CLASSES, (batch,))
    last = [0.0]

    def step():
        opt.zero_grad()
        loss = loss_fn(net(xb), y)
        loss.backward()
        opt.step()
        last[0] = loss.item()

    step_s = timed(step, args.reps, args.min_time)

    def infer():
        with torch.no_grad():
            torch.softmax(net(x), dim=1)

    infer_s = timed(infer, args.reps, args.min_time)

    lat = []
    with torch.no_grad():
        for k in range(20):
            torch.softmax(net(x[k:k + 1]), dim=1)
        t_end = time.perf_counter() + args.min_time * args.reps
        while len(lat) < 20000 and (len(lat) < 100 or time.perf_counter() < t_end):
            xi = x[len(lat) % INFER_BATCH:len(lat) % INFER_BATCH + 1]
            t0 = time.perf_counter()
            torch.softmax(net(xi), dim=1)
            lat.append(time.perf_counter() - t0)
    fl = train_flops(layers, hidden)
    sps = batch / step_s
    gf = fl * sps / 1e9
    return {
        "workload": name, "batch": batch, "layers": layers, "hidden": hidden, "steps": STEPS,
        "features": FEATURES, "blas_threads_used": int(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0),
        "train_samples_per_s": round(sps, 1), "train_step_ms": round(1e3 * step_s, 4),
        "infer_seq_per_s_b256": round(INFER_BATCH / infer_s, 1),
        "latency_b1_us": round(1e6 * statistics.median(lat), 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "flops_per_train_sample": fl, "train_gflops": round(gf, 2),
        "frac_sgemm_peak": round(gf / peak, 4) if peak > 0 else 0.0,
        "final_loss": round(last[0], 5),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="all", choices=["W1", "W2", "W3", "all"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--min-time", type=float, default=0.2)
    p.add_argument("--no-peak", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    peak = 0.0 if args.no_peak else sgemm_probe(args.reps)
    names = list(WORKLOADS) if args.workload == "all" else [args.workload]
    out = {
        "program": "torch", "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu_model(), "blas": "torch %s (%s)" % (torch.__version__, "system BLAS"),
        "openblas_corename": "", "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", ""),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "threads": args.threads, "blas_threads": torch.get_num_threads(), "sgemm_threads": args.threads,
        "sgemm_2048_gflops": round(peak, 2), "workloads": [run(n, args, peak) for n in names],
    }
    if args.json:
        json.dump(out, sys.stdout, indent=None)
        sys.stdout.write("\n")
        return
    print("torch_lstm  torch %s  %s" % (torch.__version__, out["date"]))
    print("cpu               %s" % out["cpu"])
    print("threads           torch %d  (OPENBLAS_NUM_THREADS=%s, OPENBLAS_CORETYPE=%s)" % (
        args.threads, out["OPENBLAS_NUM_THREADS"] or "<unset>", out["OPENBLAS_CORETYPE"] or "<unset>"))
    print("torch.mm 2048^3   %.1f GFLOP/s\n" % peak)
    print("%-3s %4s %2s %4s | %10s %8s %7s | %10s | %9s | %8s" % (
        "wl", "B", "L", "H", "train/s", "GFLOP/s", "%peak", "infer/s", "lat b1 us", "rss MiB"))
    for w in out["workloads"]:
        print("%-3s %4d %2d %4d | %10.0f %8.1f %6.1f%% | %10.0f | %9.1f | %8.1f" % (
            w["workload"], w["batch"], w["layers"], w["hidden"], w["train_samples_per_s"],
            w["train_gflops"], 100 * w["frac_sgemm_peak"], w["infer_seq_per_s_b256"],
            w["latency_b1_us"], w["peak_rss_mib"]))


if __name__ == "__main__":
    main()
