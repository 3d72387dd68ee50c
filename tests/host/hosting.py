"""What the host tests share: where the built plugin and CLI are, loading
the VST3 in pedalboard, test signals, float WAV files and the CLI."""

import os
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pedalboard
import pytest

ROOT = Path(__file__).resolve().parents[2]
VST3 = Path(os.environ.get("STEM_MASTER_VST3", ROOT / "target/bundled/Stem Master.vst3"))
CLI = Path(os.environ.get("STEM_MASTER_CLI", ROOT / "target/release/stem-master"))


def setup_module():
    missing = [p for p in (VST3, CLI) if not p.exists()]
    if missing:
        pytest.fail(
            f"missing {', '.join(map(str, missing))}: run `cargo xtask bundle stem_master --release` first",
            pytrace=False,
        )


def load():
    return pedalboard.load_plugin(str(VST3))


def make_signal(sample_rate, seconds=1.0, seed=1):
    """Stereo sines plus noise, different per channel, peak below 0.9."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    left = 0.4 * np.sin(2 * np.pi * 110 * t) + 0.3 * np.sin(2 * np.pi * 1500 * t)
    right = 0.4 * np.sin(2 * np.pi * 220 * t + 1) + 0.3 * np.sin(2 * np.pi * 2750 * t)
    noise = 0.1 * rng.uniform(-1, 1, size=(2, t.size))
    return (np.stack([left, right]) + noise).astype(np.float32)


def write_float_wav(path, audio, sample_rate):
    """32-bit float WAV (format tag 3) from planar (channels, frames) audio."""
    channels, frames = audio.shape
    data = np.ascontiguousarray(audio.T, dtype="<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, channels, sample_rate, sample_rate * channels * 4, channels * 4, 32)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(data)) + data)


def read_float_wav(path):
    """Planar audio and sample rate of a 32-bit float WAV."""
    raw = Path(path).read_bytes()
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE"
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(raw):
        chunk, size = raw[pos : pos + 4], struct.unpack("<I", raw[pos + 4 : pos + 8])[0]
        body = raw[pos + 8 : pos + 8 + size]
        if chunk == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif chunk == b"data":
            data = body
        pos += 8 + size + (size & 1)
    tag, channels, sample_rate, _, _, bits = fmt
    assert bits == 32 and tag in (3, 0xFFFE), fmt
    return np.frombuffer(data, dtype="<f4").reshape(-1, channels).T, sample_rate


def cli_render(audio, sample_rate, *args):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        write_float_wav(src, audio, sample_rate)
        subprocess.run([str(CLI), "render", str(src), "-o", str(dst), *args], check=True)
        rendered, rate = read_float_wav(dst)
    assert rate == sample_rate
    return rendered


def cli_analyze(audio, sample_rate, *args):
    """`stem-master analyze --json` of planar audio, parsed."""
    import json

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.wav"
        write_float_wav(src, audio, sample_rate)
        out = subprocess.run([str(CLI), "analyze", "--json", str(src), *args], check=True, capture_output=True)
    return json.loads(out.stdout)
