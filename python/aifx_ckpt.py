"""aifx_ckpt - read, verify and run AIFX checkpoints (docs/checkpoint-format.md) with numpy.

    model = aifx_ckpt.load("model.ckpt")      # raises CheckpointError naming the cause
    python3 python/aifx_ckpt.py FILE...       # verifies each file and prints a summary
    probs = model.predict(x)                  # x: (n, T, F) or (T, F) raw features
    scaler, lstm, head = model.to_torch()     # needs torch

Written from the format page alone. Every refusal is a CheckpointError whose `status` is the
library's status name (AIFX_ERR_FORMAT, ...) and whose `where` names the section or field.
"""

import struct
import zlib

import numpy as np

MAGIC = b"AIFXCKPT"
HEADER, ENTRY, ALIGN, MAX_SECTIONS = 64, 32, 64, 64
ARCH, PARAMS, SCALER, FEATURE_NAMES, CLASS_NAMES, METADATA = 1, 2, 3, 4, 5, 6
OPTIMIZER, PROGRESS, BEST_PARAMS, RESUME_PARAMS = 16, 17, 18, 19
KNOWN = {1: "ARCH", 2: "PARAMS", 3: "SCALER", 4: "FEATURE_NAMES", 5: "CLASS_NAMES",
         6: "METADATA", 16: "OPTIMIZER", 17: "PROGRESS", 18: "BEST_PARAMS", 19: "RESUME_PARAMS"}
MAX_DIM = 1 << 20
MAX_WORKSPACE = 1 << 27
MAX_METADATA = 16 << 20


class CheckpointError(ValueError):
    """A refused file: status is the library's status name, where the section or field."""

    def __init__(self, status, where, detail):
        super().__init__(f"{status}: {where}: {detail}")
        self.status, self.where, self.detail = status, where, detail


class TruncatedError(CheckpointError):
    def __init__(self, where, detail):
        super().__init__("AIFX_ERR_TRUNCATED", where, detail)


class FormatError(CheckpointError):
    def __init__(self, where, detail):
        super().__init__("AIFX_ERR_FORMAT", where, detail)


class VersionError(CheckpointError):
    def __init__(self, where, detail):
        super().__init__("AIFX_ERR_VERSION", where, detail)


class ChecksumError(CheckpointError):
    def __init__(self, where, detail):
        super().__init__("AIFX_ERR_CHECKSUM", where, detail)


class ArchError(CheckpointError):
    def __init__(self, where, detail):
        super().__init__("AIFX_ERR_ARCH", where, detail)


class NonfiniteError(CheckpointError):
    def __init__(self, where, detail):
        super().__init__("AIFX_ERR_NONFINITE", where, detail)


def _name(sid):
    return f"{KNOWN.get(sid, 'unknown')} (id {sid})"


def _u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def _u64(b, o):
    return struct.unpack_from("<Q", b, o)[0]


def _f32(b, o):
    return struct.unpack_from("<f", b, o)[0]


def _floats(b, n):
    return np.frombuffer(b, dtype="<f4", count=n).astype(np.float32)


def n_params(F, L, H, C):
    return 4 * H * (F + H + 1) + (L - 1) * 4 * H * (2 * H + 1) + C * (H + 1)


def _names(b, count, what):
    if len(b) < 4:
        raise FormatError(what, "shorter than its count")
    if _u32(b, 0) != count:
        raise ArchError(what, f"{_u32(b, 0)} names for {count} entries")
    names, pos = [], 4
    for i in range(count):
        if len(b) - pos < 4:
            raise FormatError(what, f"name {i} runs past the section")
        n = _u32(b, pos)
        pos += 4
        if n == 0 or n > 255 or n > len(b) - pos or 0 in b[pos:pos + n]:
            raise FormatError(what, f"name {i} has a bad length ({n})")
        names.append(b[pos:pos + n].decode("utf-8", errors="replace"))
        pos += n
    if pos != len(b):
        raise FormatError(what, f"{len(b) - pos} bytes after the last name")
    return names


class Model:
    """A verified checkpoint: architecture, float32 weights per layer, scaler, names."""

    def __init__(self, arch, params, mean, scale, feature_names, class_names, metadata,
                 optimizer=None, progress=None):
        self.arch = arch
        self.F, self.T, self.L, self.H, self.C = (arch[k] for k in "FTLHC")
        self.params, self.mean, self.scale = params, mean, scale
        self.feature_names, self.class_names, self.metadata = feature_names, class_names, metadata
        self.optimizer, self.progress = optimizer, progress
        self.layers, pos, n_in, H = [], 0, self.F, self.H
        for _ in range(self.L):
            w_ih = params[pos:pos + 4 * H * n_in].reshape(4 * H, n_in)
            pos += 4 * H * n_in
            w_hh = params[pos:pos + 4 * H * H].reshape(4 * H, H)
            pos += 4 * H * H
            self.layers.append((w_ih, w_hh, params[pos:pos + 4 * H]))
            pos += 4 * H
            n_in = H
        self.w_head = params[pos:pos + self.C * H].reshape(self.C, H)
        self.b_head = params[pos + self.C * H:pos + self.C * H + self.C]

    def predict(self, x):
        """Probabilities (n, C), float64, for raw windows x (n, T, F) or one window (T, F)."""
        x = np.asarray(x, dtype=np.float32)
        single = x.ndim == 2
        if single:
            x = x[None]
        if x.shape[1:] != (self.T, self.F):
            raise ValueError(f"windows must be (n, {self.T}, {self.F}), not {x.shape}")
        u = ((x - self.mean) / self.scale).astype(np.float64)  # float32 ops, as the library
        sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
        H = self.H
        for w_ih, w_hh, b in self.layers:
            h = np.zeros((u.shape[0], H))
            c = np.zeros((u.shape[0], H))
            out = np.empty(u.shape[:2] + (H,))
            for t in range(self.T):
                z = u[:, t] @ w_ih.T.astype(np.float64) + h @ w_hh.T.astype(np.float64) + b
                i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), \
                    sig(z[:, 3 * H:])
                c = f * c + i * g
                h = o * np.tanh(c)
                out[:, t] = h
            u = out
        logits = u[:, -1] @ self.w_head.T.astype(np.float64) + self.b_head
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        return p[0] if single else p

    def to_torch(self):
        """(scaler, lstm, head): a function x -> (x - mean) / scale, torch.nn.LSTM (batch_first,
        bias_ih = b, bias_hh = 0) and torch.nn.Linear, float32, equal to predict():
        softmax(head(lstm(scaler(x))[0][:, -1]))."""
        import torch

        lstm = torch.nn.LSTM(self.F, self.H, num_layers=self.L, batch_first=True)
        head = torch.nn.Linear(self.H, self.C)
        with torch.no_grad():
            for k, (w_ih, w_hh, b) in enumerate(self.layers):
                getattr(lstm, f"weight_ih_l{k}").copy_(torch.from_numpy(w_ih.copy()))
                getattr(lstm, f"weight_hh_l{k}").copy_(torch.from_numpy(w_hh.copy()))
                getattr(lstm, f"bias_ih_l{k}").copy_(torch.from_numpy(b.copy()))
                getattr(lstm, f"bias_hh_l{k}").zero_()
            head.weight.copy_(torch.from_numpy(self.w_head.copy()))
            head.bias.copy_(torch.from_numpy(self.b_head.copy()))
        mean, scale = torch.from_numpy(self.mean.copy()), torch.from_numpy(self.scale.copy())
        return (lambda x: (x - mean) / scale), lstm.eval(), head.eval()


def load(path):
    with open(path, "rb") as f:
        return loads(f.read())


def loads(b):
    """Verifies the bytes of a checkpoint in the format page's order and returns a Model."""
    b = bytes(b)
    n = len(b)
    # 1. header
    if n < HEADER:
        raise TruncatedError("header", f"{n} bytes, shorter than the 64-byte header")
    if b[:8] != MAGIC:
        raise FormatError("header.magic", "not a checkpoint (bad magic)")
    major, minor = struct.unpack_from("<HH", b, 8)
    if major > 1:
        raise VersionError("header.version", f"format version {major}.{minor} is newer than 1.x")
    if major != 1 or _u32(b, 12) != HEADER:
        raise FormatError("header.version", f"unknown format version {major}.{minor}")
    # 2. sizes, table, header CRC
    fsize, ns, table = _u64(b, 16), _u32(b, 24), _u64(b, 32)
    if fsize > n:
        raise TruncatedError("header.file_size", f"the header says {fsize} bytes, there are {n}")
    if fsize < n:
        raise FormatError("header.file_size", f"{n - fsize} bytes after the declared end")
    if table != HEADER:
        raise FormatError("header.table_offset", f"section table at offset {table}, not 64")
    if ns > (n - table) // ENTRY:
        raise TruncatedError("section table", f"{ns} entries run past the end")
    table_end = table + ns * ENTRY
    if zlib.crc32(b[:60] + b[table:table_end]) != _u32(b, 60):
        raise ChecksumError("header.crc", "header or section table checksum")
    if ns > MAX_SECTIONS:
        raise FormatError("header.n_sections", f"{ns} sections (at most 64)")
    # 3. entries: bounds, overlap and padding, CRCs, duplicates
    entries = [struct.unpack_from("<IIQQII", b, table + i * ENTRY) for i in range(ns)]
    for sid, _, off, size, _, _ in entries:
        if off % ALIGN or off < table_end:
            raise FormatError(f"section {_name(sid)}", f"bad offset {off}")
        if off > n or size > n - off:
            raise TruncatedError(f"section {_name(sid)}", f"{size} bytes at {off} run past {n}")
    covered = table_end
    for off, size in sorted((e[2], e[3]) for e in entries):
        if off < covered:
            raise FormatError("section table", f"sections overlap at offset {off}")
        if any(b[covered:off]):
            raise FormatError("padding", f"nonzero byte between offsets {covered} and {off}")
        covered = off + size
    if any(b[covered:]):
        raise FormatError("padding", "nonzero byte after the last section")
    sec, seen = {}, set()
    for sid, _flags, off, size, crc, _reserved in entries:  # flags, reserved: ignored
        if zlib.crc32(b[off:off + size]) != crc:
            raise ChecksumError(f"section {_name(sid)}", "checksum")
        if sid in seen:
            raise FormatError(f"section {_name(sid)}", "appears twice")
        seen.add(sid)
        if sid in KNOWN:
            sec[sid] = b[off:off + size]
    # 4. required sections and the sizes the architecture implies
    for sid in (ARCH, PARAMS, SCALER, FEATURE_NAMES, CLASS_NAMES, METADATA):
        if sid not in sec:
            raise FormatError(f"section {_name(sid)}", "missing")
    a = sec[ARCH]
    if len(a) != 48:
        raise FormatError("ARCH", f"{len(a)} bytes, not 48")
    F, T, L, H, C, B = struct.unpack_from("<6I", a, 0)
    dropout, seed, np_arch = _f32(a, 24), _u64(a, 32), _u64(a, 40)
    ok = (1 <= F <= MAX_DIM and 1 <= T <= MAX_DIM and 1 <= L <= 16 and 1 <= H <= MAX_DIM // 4
          and 2 <= C <= 16 and 1 <= B <= MAX_DIM and T * B <= (2**31 - 1) // 4
          and 0.0 <= dropout < 1.0)
    if not ok:
        raise ArchError("ARCH", f"invalid architecture (F {F}, T {T}, L {L}, H {H}, C {C}, "
                        f"batch {B}, dropout {dropout})")
    if L * T * B * (6 * H + 2) > MAX_WORKSPACE:
        raise ArchError("ARCH", "the training workspace would pass 512 MiB")
    want = n_params(F, L, H, C)
    if np_arch != want or len(sec[PARAMS]) != 4 * want:
        raise ArchError("ARCH.n_params", f"the architecture has {want} parameters; ARCH says "
                        f"{np_arch} and PARAMS holds {len(sec[PARAMS])} bytes")
    if len(sec[SCALER]) != 8 * F:
        raise ArchError("SCALER", f"{len(sec[SCALER])} bytes for {F} features")
    has_state = PROGRESS in sec
    if has_state and (OPTIMIZER not in sec or BEST_PARAMS not in sec):
        raise FormatError("PROGRESS", "without OPTIMIZER and BEST_PARAMS")
    if OPTIMIZER in sec and len(sec[OPTIMIZER]) != 32 + 8 * want:
        raise ArchError("OPTIMIZER", "size does not match")
    if has_state and len(sec[PROGRESS]) != 88:
        raise FormatError("PROGRESS", "size is not 88")
    for sid in (BEST_PARAMS, RESUME_PARAMS):
        if sid in sec and len(sec[sid]) != 4 * want:
            raise ArchError(KNOWN[sid], "size does not match")
    if has_state and _u32(sec[PROGRESS], 32) and RESUME_PARAMS not in sec:
        raise FormatError("PROGRESS.restored", "restored without RESUME_PARAMS")
    meta = sec[METADATA]
    if len(meta) > MAX_METADATA or 0 in meta:
        raise FormatError("METADATA", "not text")
    # 5. values
    params = _floats(sec[PARAMS], want)
    if not np.all(np.isfinite(params)):
        raise NonfiniteError("PARAMS", "holds a NaN or infinity")
    mean, scale = _floats(sec[SCALER], F), _floats(sec[SCALER][4 * F:], F)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(mean) | ~np.isfinite(scale) | ~(scale >= np.finfo(np.float32).tiny)
    if bad.any():
        raise FormatError("SCALER", f"feature {int(np.argmax(bad))} is invalid")
    fnames = _names(sec[FEATURE_NAMES], F, "FEATURE_NAMES")
    cnames = _names(sec[CLASS_NAMES], C, "CLASS_NAMES")
    optimizer = progress = None
    if OPTIMIZER in sec:
        o = sec[OPTIMIZER]
        lr, b1, b2, eps, wd = struct.unpack_from("<5f", o, 0)
        step = _u64(o, 24)
        m, v = _floats(o[32:], want), _floats(o[32 + 4 * want:], want)
        fin = np.isfinite
        if not (fin(lr) and lr > 0 and 0 <= b1 < 1 and 0 <= b2 < 1 and fin(eps) and eps > 0
                and fin(wd) and wd >= 0 and step < 2**63 and fin(m).all() and fin(v).all()):
            raise FormatError("OPTIMIZER", "holds invalid values")
        optimizer = dict(lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd, step=step, m=m, v=v)
    if has_state:
        p = sec[PROGRESS]
        (epoch, stopped, monitor, has_best, best_epoch, wait, plateau_wait, cooldown,
         restored) = struct.unpack_from("<9i", p, 0)
        rng = struct.unpack_from("<4Q", p, 56)
        if (epoch < 0 or best_epoch < 0 or best_epoch > epoch or wait < 0 or plateau_wait < 0
                or cooldown < 0 or monitor not in (0, 1) or not any(rng)):
            raise FormatError("PROGRESS", "holds invalid values")
        progress = dict(epoch=epoch, stopped=stopped, monitor=monitor, has_best=has_best,
                        best_epoch=best_epoch, wait=wait, plateau_wait=plateau_wait,
                        cooldown=cooldown, restored=restored,
                        best_score=struct.unpack_from("<d", p, 40)[0],
                        plateau_best=struct.unpack_from("<d", p, 48)[0], rng=rng)
    arch = dict(F=F, T=T, L=L, H=H, C=C, batch_size=B, dropout=dropout, seed=seed)
    return Model(arch, params, mean, scale, fnames, cnames, meta.decode("utf-8", "replace"),
                 optimizer, progress)


def main(argv):
    """Verifies each file; prints its architecture and names, or the reason it is refused."""
    bad = 0
    for path in argv:
        try:
            m = load(path)
        except (OSError, CheckpointError) as e:
            print(f"{path}: REFUSED {e}")
            bad += 1
            continue
        state = "with training state" if m.progress else "without training state"
        print(f"{path}: OK, F={m.F} T={m.T} L={m.L} H={m.H} C={m.C}, {m.params.size} parameters, "
              f"{state}; classes {', '.join(m.class_names)}")
    return 1 if bad else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
