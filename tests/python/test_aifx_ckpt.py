"""The Python reader (python/aifx_ckpt.py) against the library, through tests/python/ckpt_helper.

(a) probabilities on the committed models, the format page's example and a freshly trained
    2-layer model: prints the max abs difference, fails above 1e-5;
(b) verdicts (the status name, OK or AIFX_ERR_...) on every file of tests/fuzz/corpus and
    tests/fuzz/regressions and on every corrupted-file class tests/check_checkpoint.c makes:
    prints a table, fails on any disagreement;
(c) to_torch(), when torch is importable.
Exits 77 (ctest: skipped) when numpy is missing.
"""

import argparse
import os
import struct
import subprocess
import sys
import zlib

try:
    import numpy as np
except ImportError:
    print("python_reader: SKIPPED, numpy is not importable by", sys.executable,
          "(apt-get install python3-numpy)")
    sys.exit(77)

TOL = 1e-5


def run(helper, *args):
    r = subprocess.run([helper, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{helper} {' '.join(args)} failed: {r.stderr}")
    return r.stdout


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def put32(b, o, v):
    struct.pack_into("<I", b, o, v & 0xFFFFFFFF)


def put64(b, o, v):
    struct.pack_into("<Q", b, o, v)


def reseal_header(b):
    ns = u32(b, 24)
    put32(b, 60, zlib.crc32(bytes(b[:60]) + bytes(b[64:64 + 32 * ns])))


def reseal(b):
    for i in range(u32(b, 24)):
        e = 64 + 32 * i
        off, size = struct.unpack_from("<QQ", b, e + 8)
        put32(b, e + 24, zlib.crc32(bytes(b[off:off + size])))
    reseal_header(b)


def section(b, sid):
    for i in range(u32(b, 24)):
        e = 64 + 32 * i
        if u32(b, e) == sid:
            off, size = struct.unpack_from("<QQ", b, e + 8)
            return off, size
    raise KeyError(sid)


def edited(base, edit, seal=reseal):
    b = bytearray(base)
    edit(b)
    if seal:
        seal(b)
    return bytes(b)


def corruption_classes(tiny_state, trained):
    """(class name, [file bytes]) as in tests/check_checkpoint.c, plus the format page's rules."""
    t = trained
    par, _ = section(t, 2)
    sc, scs = section(t, 3)
    fn, _ = section(t, 4)
    cn, _ = section(t, 5)
    pg, _ = section(t, 17)
    ar, _ = section(t, 1)
    return [
        ("valid, with training state", [t]),
        ("truncated at every length", [tiny_state[:k] for k in range(len(tiny_state))]),
        ("every byte flipped (^0x5a)", [edited(tiny_state, lambda b, i=i: b.__setitem__(
            i, b[i] ^ 0x5A), None) for i in range(len(tiny_state))]),
        ("bad magic", [edited(t, lambda b: b.__setitem__(0, ord("X")), None)]),
        ("newer major version 2.0", [edited(t, lambda b: b.__setitem__(8, 2))]),
        ("major version 0", [edited(t, lambda b: b.__setitem__(8, 0))]),
        ("newer minor version 1.9 (loads)", [edited(t, lambda b: b.__setitem__(10, 9))]),
        ("header size not 64", [edited(t, lambda b: put32(b, 12, 128))]),
        ("bad header checksum", [edited(t, lambda b: b.__setitem__(44, 1), None)]),
        ("bad section checksum", [edited(t, lambda b: b.__setitem__(par + 5, b[par + 5] ^ 1),
                                         reseal_header)]),
        ("longer than declared", [t + bytes(64)]),
        ("table offset 128", [edited(t, lambda b: put64(b, 32, 128), reseal_header)]),
        ("65 sections declared", [edited(t, lambda b: put32(b, 24, 65), reseal_header)]),
        ("section of 2^40 floats", [edited(t, lambda b: put64(b, 64 + 32 + 16, 4 << 40),
                                           reseal_header)]),
        ("misaligned section", [edited(t, lambda b: put64(b, 64 + 8, u32(b, 64 + 8) + 4),
                                       reseal_header)]),
        ("overlapping sections", [edited(t, lambda b: put64(b, 64 + 32 + 8, u32(b, 64 + 8)),
                                         reseal_header)]),
        ("nonzero padding", [edited(t, lambda b: b.__setitem__(ar + 60, 1), reseal_header)]),
        ("reserved fields and flags set (loads)", [edited(t, lambda b: (
            put32(b, 28, 0xDEADBEEF), put32(b, 68, 1), put32(b, 92, 2), put32(b, ar + 28, 3)))]),
        ("unknown id 7 instead of ARCH", [edited(t, lambda b: put32(b, 64, 7))]),
        ("unknown id 21 instead of PROGRESS (loads)", [edited(t, lambda b: [
            put32(b, 64 + 32 * i, 21) for i in range(u32(b, 24)) if u32(b, 64 + 32 * i) == 17])]),
        ("one id twice", [edited(t, lambda b: put32(b, 96, 1))]),
        ("unknown id twice", [edited(t, lambda b: (put32(b, 64, 7), put32(b, 96, 7)))]),
        ("2^18 hidden units", [edited(t, lambda b: put32(b, ar + 12, 1 << 18))]),
        ("workspace over 512 MiB", [edited(t, lambda b: (put32(b, ar + 4, 100000),
                                                          put32(b, ar + 20, 1000)))]),
        ("zero classes", [edited(t, lambda b: put32(b, ar + 16, 0))]),
        ("dropout 1.0", [edited(t, lambda b: struct.pack_into("<f", b, ar + 24, 1.0))]),
        ("NaN parameter", [edited(t, lambda b: put32(b, par + 8, 0x7FC00000))]),
        ("zero scale", [edited(t, lambda b: put32(b, sc + scs // 2, 0))]),
        ("subnormal scale", [edited(t, lambda b: put32(b, sc + scs // 2, 0x00046000))]),
        ("infinite mean", [edited(t, lambda b: put32(b, sc, 0x7F800000))]),
        ("name longer than its section", [edited(t, lambda b: put32(b, fn + 4, 100000))]),
        ("wrong class-name count", [edited(t, lambda b: put32(b, cn, 4))]),
        ("NUL in a class name", [edited(t, lambda b: b.__setitem__(cn + 8, 0))]),
        ("best epoch in the future", [edited(t, lambda b: put32(b, pg + 16, 99))]),
        ("monitor 2", [edited(t, lambda b: put32(b, pg + 8, 2))]),
        ("all-zero generator state", [edited(t, lambda b: b.__setitem__(
            slice(pg + 56, pg + 88), bytes(32)))]),
        ("restored without RESUME_PARAMS", [edited(t, lambda b: put32(b, pg + 32, 1))]),
    ]


def verdicts(helper, aifx_ckpt, files, workdir):
    """[(library status, reader status)] for the files (bytes)."""
    paths = []
    for k, data in enumerate(files):
        p = os.path.join(workdir, f"v{k}.ckpt")
        with open(p, "wb") as f:
            f.write(data)
        paths.append(p)
    lib = {}
    for i in range(0, len(paths), 500):
        for line in run(helper, "verdict", *paths[i:i + 500]).splitlines():
            st, p = line.split("\t")
            lib[p] = st
    out = []
    for p, data in zip(paths, files):
        try:
            aifx_ckpt.loads(data)
            mine = "OK"
        except aifx_ckpt.CheckpointError as e:
            mine = e.status
        out.append((lib[p], mine))
        os.remove(p)
    return out


def compare_probs(helper, aifx_ckpt, path, workdir, n, lo, hi, seed):
    m = aifx_ckpt.load(path)
    rng = np.random.default_rng(seed)
    x = rng.uniform(lo, hi, size=(n, m.T, m.F)).astype("<f4")
    xp = os.path.join(workdir, "x.f32")
    x.tofile(xp)
    lib = np.array([[float(v) for v in line.split()]
                    for line in run(helper, "predict", path, xp, str(n)).splitlines()])
    mine = m.predict(x)
    return m, x, float(np.max(np.abs(lib - mine))), lib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--helper", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.root, "python"))
    import aifx_ckpt

    os.makedirs(a.work, exist_ok=True)
    failed = False
    tiny = os.path.join(a.work, "tiny.ckpt")
    trained = os.path.join(a.work, "trained.ckpt")
    run(a.helper, "tiny", tiny)
    run(a.helper, "train", trained)
    corpus = os.path.join(a.root, "tests", "fuzz")

    # (a) probabilities
    print("(a) probabilities, reader vs library (max abs difference):")
    models = [(os.path.join(corpus, "corpus", "tiny.ckpt"), -6, 6),
              (os.path.join(corpus, "corpus", "tiny-state.ckpt"), -6, 6),
              (tiny, -3, 3), (trained, 95, 160)]
    worst = 0.0
    torch_inputs = []
    for k, (path, lo, hi) in enumerate(models):
        m, x, d, lib = compare_probs(a.helper, aifx_ckpt, path, a.work, 500, lo, hi, 100 + k)
        worst = max(worst, d)
        torch_inputs.append((m, x, lib))
        arch = f"F={m.F} T={m.T} L={m.L} H={m.H} C={m.C}"
        print(f"    {os.path.basename(path):18s} {arch:26s} 500 windows  max |dp| = {d:.3g}")
    print(f"    overall max abs probability difference: {worst:.3g} (tolerance {TOL:g})")
    if worst > TOL:
        failed = True

    # (b) verdicts
    with open(os.path.join(corpus, "corpus", "tiny-state.ckpt"), "rb") as f:
        tiny_state = f.read()
    with open(trained, "rb") as f:
        trained_bytes = f.read()
    classes = []
    for sub in ("corpus", "regressions"):
        d = os.path.join(corpus, sub)
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                classes.append((f"fuzz/{sub}/{name}", [f.read()]))
    classes += corruption_classes(tiny_state, trained_bytes)
    print("(b) verdicts, library vs reader:")
    print(f"    {'class':44s} {'files':>5s}  {'library':34s} agree")
    for name, files in classes:
        pairs = verdicts(a.helper, aifx_ckpt, files, a.work)
        lib = sorted(set(p[0] for p in pairs))
        bad = [i for i, (x, y) in enumerate(pairs) if x != y]
        print(f"    {name:44s} {len(files):5d}  {','.join(lib):34s} "
              f"{'yes' if not bad else 'NO'}")
        for i in bad[:5]:
            print(f"        file {i}: library {pairs[i][0]}, reader {pairs[i][1]}")
        failed |= bool(bad)

    # (c) torch, when present
    try:
        import torch
    except ImportError:
        print("(c) to_torch: skipped, torch is not importable (apt-get install python3-torch)")
    else:
        worst_t = 0.0
        for m, x, lib in torch_inputs:
            scaler, lstm, head = m.to_torch()
            with torch.no_grad():
                h = lstm(scaler(torch.from_numpy(np.ascontiguousarray(x))))[0][:, -1]
                p = torch.softmax(head(h), dim=1).double().numpy()
            worst_t = max(worst_t, float(np.max(np.abs(p - lib))))
        print(f"(c) to_torch: max abs probability difference vs the library {worst_t:.3g}")
        failed |= worst_t > TOL
    print("python_reader:", "FAILED" if failed else "passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
