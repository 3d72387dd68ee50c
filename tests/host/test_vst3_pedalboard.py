"""Stem Master's VST3 bundle in a real host (pedalboard, which wraps JUCE's
VST3 hosting): parameters, processing against the CLI, latency and state."""

from pathlib import Path

import numpy as np
import pytest

from hosting import load, make_signal, cli_render, setup_module  # noqa: F401


def test_loads_with_the_expected_parameters():
    plugin = load()
    assert plugin.name == "Stem Master"
    params = plugin.parameters
    for name in ("input_trim_db", "output_trim_db", "stem_role", "bypass"):
        assert name in params, sorted(params)
    assert params["input_trim_db"].range[:2] == (-24.0, 24.0)
    assert params["output_trim_db"].range[:2] == (-24.0, 24.0)
    assert params["input_trim_db"].units.strip() == "dB"
    assert list(params["stem_role"].valid_values) == [
        "Drums", "Bass", "Vocals", "Backing Vocals", "Music", "Effects", "Full Mix",
    ]
    assert plugin.stem_role == "Full Mix"
    assert plugin.input_trim_db == 0.0


@pytest.mark.parametrize("sample_rate", [44100, 96000])
def test_reports_the_limiter_look_ahead_and_is_compensated(sample_rate):
    # The limiter's band limit (36 samples) and 1.5 ms of look-ahead at any
    # rate; pedalboard removes it, so an impulse comes out where it went in
    # (the limiter is off by default, so its bypass path is a plain delay).
    plugin = load()
    impulse = np.zeros((2, 4096), dtype=np.float32)
    impulse[:, 1000] = 0.5
    out = plugin.process(impulse, sample_rate)
    assert plugin.reported_latency_samples == 36 + round(0.0015 * sample_rate)
    assert int(np.argmax(np.abs(out[0]))) == 1000
    assert np.max(np.abs(out - impulse)) <= 1e-7


@pytest.mark.parametrize("sample_rate", [44100, 96000])
def test_output_matches_the_cli_render(sample_rate):
    audio = make_signal(sample_rate)
    plugin = load()
    plugin.stem_role = "Bass"
    plugin.input_trim_db = -6.0
    plugin.output_trim_db = 1.5
    hosted = plugin.process(audio, sample_rate)
    rendered = cli_render(audio, sample_rate, "--set", "role=bass", "--set", "in_gain=-6", "--set", "out_gain=1.5")
    assert hosted.shape == rendered.shape == audio.shape
    assert np.max(np.abs(hosted - rendered)) <= 1e-6
    # And both are the analytic result: a -4.5 dB gain (f32 arithmetic).
    assert np.max(np.abs(hosted - audio * 10 ** (-4.5 / 20))) <= 1e-6


@pytest.mark.parametrize("block", [1, 64, 1000, 8192])
def test_host_block_size_does_not_change_the_output(block):
    audio = make_signal(48000, seconds=0.25)
    plugin = load()
    plugin.input_trim_db = 3.0
    reference = plugin.process(audio, 48000)
    plugin.reset()
    assert np.array_equal(plugin.process(audio, 48000, buffer_size=block), reference)


def test_bypass_passes_the_input_through():
    audio = make_signal(48000, seconds=0.2)
    plugin = load()
    plugin.input_trim_db = -12.0
    plugin.bypass = True
    assert np.array_equal(plugin.process(audio, 48000), audio)


def test_raw_state_round_trips():
    plugin = load()
    plugin.stem_role = "Backing Vocals"
    plugin.input_trim_db = -3.25
    plugin.output_trim_db = 7.5
    # While a VST3 plugin is active, a host delivers parameter changes to its
    # processor with the next audio block (JUCE queues them); a DAW saves a
    # session after that has happened. Process one short block first.
    plugin.process(make_signal(48000, seconds=0.01), 48000)
    state = plugin.raw_state

    restored = load()
    restored.raw_state = state
    assert restored.stem_role == "Backing Vocals"
    assert restored.input_trim_db == pytest.approx(-3.25, abs=1e-4)
    assert restored.output_trim_db == pytest.approx(7.5, abs=1e-4)
    audio = make_signal(48000, seconds=0.2)
    assert np.array_equal(restored.process(audio, 48000), plugin.process(audio, 48000))

    plugin.input_trim_db = 0.0
    plugin.stem_role = "Drums"
    plugin.process(make_signal(48000, seconds=0.01), 48000)
    assert plugin.stem_role == "Drums"
    plugin.raw_state = state
    assert plugin.stem_role == "Backing Vocals"
    assert plugin.input_trim_db == pytest.approx(-3.25, abs=1e-4)


FIXTURE = Path(__file__).resolve().parent / "fixtures" / "state-before-versioning.vst3state"


def test_state_saved_before_versioning_loads_with_its_values():
    # Saved through pedalboard by the plugin before its state carried a
    # format version (the same state as plugin/tests/fixtures/state-0.1.0-unversioned.json).
    plugin = load()
    plugin.raw_state = FIXTURE.read_bytes()
    assert plugin.stem_role == "Backing Vocals"
    assert plugin.input_trim_db == pytest.approx(-3.25, abs=1e-4)
    assert plugin.output_trim_db == pytest.approx(1.5, abs=1e-4)
    assert plugin.link_group == 3
    assert plugin.glue and plugin.limiter
    assert plugin.glue_ratio == pytest.approx(3.0, abs=1e-3)
    out = plugin.process(make_signal(48000, seconds=0.2), 48000)
    assert np.isfinite(out).all()


def test_damaged_state_never_takes_the_plugin_down():
    good = FIXTURE.read_bytes()
    for junk in [b"", b"garbage", good[: len(good) // 2], good[:40] + b"\x00" * 100, bytes(range(256)) * 8]:
        plugin = load()
        try:
            plugin.raw_state = junk
        except Exception:
            pass  # the host may report the failure; the plugin must survive it
        # Refused: the instance keeps its defaults and still processes.
        assert plugin.stem_role == "Full Mix"
        assert plugin.input_trim_db == 0.0
        out = plugin.process(make_signal(48000, seconds=0.1), 48000)
        assert np.isfinite(out).all()
