//! A place in the mastering chain: one processing module with its own
//! click-free bypass. Switching a module on or off crossfades between its
//! input and its output over [`MODULE_FADE_SECONDS`]; a module that is fully
//! off costs nothing and is reset, so switching it on starts from silence.
//!
//! A module that looks ahead (latency > 0) has its bypass path delayed by
//! the same latency, so the chain's latency never changes when the module
//! is switched. Fully off it costs only that delay; switched back on, it is
//! reset and then fed the `latency` input samples the delay line holds, so
//! its look-ahead is full when its output starts to fade in.

use super::delay::DelayLine;
use super::smoothing::LinearRamp;

/// Length of the crossfade when a module is switched on or off, seconds.
pub const MODULE_FADE_SECONDS: f32 = 0.020;
/// Channels a slot handles.
const MAX_CHANNELS: usize = 2;

/// What the chain needs from a processing module.
pub trait ChainModule {
    /// Processes planar audio in place.
    fn process(&mut self, channels: &mut [&mut [f32]]);
    /// Clears all signal state.
    fn reset(&mut self);
    /// Delay from input to output, samples.
    fn latency_samples(&self) -> usize {
        0
    }
}

/// A module, its on/off state and the buffer its crossfade needs.
pub struct ModuleSlot<M> {
    /// The module.
    pub module: M,
    /// Share of the module's output: 0 = bypassed, 1 = on.
    enabled: LinearRamp,
    /// The module's input during a crossfade, per channel, `max_block` samples.
    dry: Vec<Vec<f32>>,
    /// Per channel, delays the bypass path by the module's latency (empty
    /// for modules without latency).
    dry_delay: Vec<DelayLine>,
    /// Per channel, `latency` samples: the delay line's contents fed to the
    /// module when it is switched back on (empty without latency).
    preroll: Vec<Vec<f32>>,
}

impl<M: ChainModule> ModuleSlot<M> {
    /// A slot for `module`, off, for blocks of up to `max_block` samples.
    pub fn new(module: M, sample_rate_hz: f32, max_block: usize, channels: usize) -> Self {
        let latency = module.latency_samples();
        let dry_delay = if latency > 0 {
            vec![DelayLine::new(latency); channels.min(MAX_CHANNELS)]
        } else {
            Vec::new()
        };
        Self {
            preroll: vec![vec![0.0; latency]; dry_delay.len()],
            dry_delay,
            module,
            enabled: LinearRamp::new(
                0.0,
                LinearRamp::samples_for(MODULE_FADE_SECONDS, sample_rate_hz),
            ),
            dry: vec![vec![0.0; max_block]; channels.min(MAX_CHANNELS)],
        }
    }

    /// Switches the module on or off (a crossfade follows).
    #[inline]
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled.set_target(if enabled { 1.0 } else { 0.0 });
    }

    /// Whether the module contributes to the output at all right now.
    pub fn is_active(&self) -> bool {
        self.enabled.value() > 0.0 || self.enabled.target() > 0.0
    }

    /// Jumps to the target on/off state and clears the module's state.
    pub fn reset(&mut self) {
        self.enabled.snap_to_target();
        self.module.reset();
        for line in &mut self.dry_delay {
            line.reset();
        }
    }

    /// Delay from input to output, samples, whether on or off.
    pub fn latency_samples(&self) -> usize {
        self.module.latency_samples()
    }

    /// Processes a chunk of at most `max_block` samples per channel.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let Some(len) = channels.first().map(|c| c.len()) else {
            return;
        };
        if !self.dry_delay.is_empty() {
            self.process_with_latency(channels, len);
            return;
        }
        if self.enabled.is_settled() {
            if self.enabled.value() == 0.0 {
                return;
            }
            self.module.process(channels);
            return;
        }
        let switching_on = self.enabled.target() > self.enabled.value();
        if switching_on && self.enabled.value() == 0.0 {
            // Coming back from fully off: start from a clean state.
            self.module.reset();
        }
        for (dry, channel) in self.dry.iter_mut().zip(channels.iter()) {
            dry[..len].copy_from_slice(channel);
        }
        self.module.process(channels);
        for i in 0..len {
            let wet_share = self.enabled.advance();
            for (channel, dry) in channels.iter_mut().zip(&self.dry) {
                channel[i] = channel[i] * wet_share + dry[i] * (1.0 - wet_share);
            }
        }
    }
}

impl<M: ChainModule> ModuleSlot<M> {
    /// A module with latency: the bypass path is the input delayed by the
    /// same latency; fully off, that delay is all that runs.
    fn process_with_latency(&mut self, channels: &mut [&mut [f32]], len: usize) {
        if self.enabled.is_settled() && self.enabled.value() == 0.0 {
            for (channel, line) in channels.iter_mut().zip(&mut self.dry_delay) {
                line.process(channel);
            }
            return;
        }
        if self.enabled.value() == 0.0 {
            self.warm_up();
        }
        for ((dry, line), channel) in self
            .dry
            .iter_mut()
            .zip(&mut self.dry_delay)
            .zip(channels.iter())
        {
            dry[..len].copy_from_slice(channel);
            line.process(&mut dry[..len]);
        }
        self.module.process(channels);
        if self.enabled.is_settled() && self.enabled.value() == 1.0 {
            return;
        }
        for i in 0..len {
            let wet_share = self.enabled.advance();
            for (channel, dry) in channels.iter_mut().zip(&self.dry) {
                channel[i] = channel[i] * wet_share + dry[i] * (1.0 - wet_share);
            }
        }
    }

    /// Resets the module and feeds it the input its look-ahead would hold
    /// had it been running: the delay line's contents. Its output is
    /// discarded (the fade-in starts from the bypass path).
    fn warm_up(&mut self) {
        self.module.reset();
        for (preroll, line) in self.preroll.iter_mut().zip(&self.dry_delay) {
            let (older, newer) = line.contents();
            preroll[..older.len()].copy_from_slice(older);
            preroll[older.len()..].copy_from_slice(newer);
        }
        match self.preroll.as_mut_slice() {
            [only] => self.module.process(&mut [only.as_mut_slice()]),
            [left, right] => self
                .module
                .process(&mut [left.as_mut_slice(), right.as_mut_slice()]),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Halves the signal.
    struct Half;
    impl ChainModule for Half {
        fn process(&mut self, channels: &mut [&mut [f32]]) {
            for channel in channels.iter_mut() {
                for x in channel.iter_mut() {
                    *x *= 0.5;
                }
            }
        }
        fn reset(&mut self) {}
    }

    /// Delays by `DELAY` samples and halves: a module that looks ahead.
    struct DelayedHalf(DelayLine);
    const DELAY: usize = 5;
    impl ChainModule for DelayedHalf {
        fn process(&mut self, channels: &mut [&mut [f32]]) {
            for channel in channels.iter_mut() {
                self.0.process(channel);
                for x in channel.iter_mut() {
                    *x *= 0.5;
                }
            }
        }
        fn reset(&mut self) {
            self.0.reset();
        }
        fn latency_samples(&self) -> usize {
            DELAY
        }
    }

    #[test]
    fn a_module_with_latency_is_a_delay_when_off_and_warm_when_switched_on() {
        let mut slot = ModuleSlot::new(DelayedHalf(DelayLine::new(DELAY)), 1000.0, 64, 1);
        let ramp: Vec<f32> = (0..200).map(|n| n as f32).collect();
        let mut output = Vec::new();
        for (index, chunk) in ramp.chunks(40).enumerate() {
            if index == 2 {
                slot.set_enabled(true);
            }
            let mut block = chunk.to_vec();
            slot.process(&mut [&mut block]);
            output.extend(block);
        }
        // Off: the input delayed by the latency, exactly.
        for (n, &sample) in output[..80].iter().enumerate() {
            let want = if n < DELAY { 0.0 } else { (n - DELAY) as f32 };
            assert_eq!(sample, want, "{n}");
        }
        // Fading in over 20 samples from sample 80: the module's output is
        // already the delayed, halved input (its look-ahead was filled from
        // the delay line), so the mix falls smoothly from 1× to 0.5×.
        for (n, &sample) in output.iter().enumerate().skip(80) {
            let delayed = (n - DELAY) as f32;
            let wet_share = ((n - 79) as f32 / 20.0).min(1.0);
            let want = delayed * (1.0 - 0.5 * wet_share);
            assert!(
                (sample - want).abs() <= 1e-4 * want,
                "{n}: {sample} vs {want}"
            );
        }
    }

    #[test]
    fn crossfades_between_bypass_and_module() {
        let mut slot = ModuleSlot::new(Half, 1000.0, 64, 1);
        // 20 ms at 1 kHz = 20 samples of crossfade.
        let mut block = vec![1.0f32; 64];
        slot.process(&mut [&mut block]);
        assert!(block.iter().all(|&x| x == 1.0), "off passes through");
        slot.set_enabled(true);
        let mut block = vec![1.0f32; 64];
        slot.process(&mut [&mut block]);
        assert!((block[0] - 0.975).abs() < 1e-6, "{}", block[0]);
        assert!(block.windows(2).all(|p| p[1] <= p[0]));
        assert!(
            block[19..].iter().all(|&x| x == 0.5),
            "fully on after the fade"
        );
        slot.set_enabled(false);
        let mut block = vec![1.0f32; 64];
        slot.process(&mut [&mut block]);
        assert!(
            block[19..].iter().all(|&x| x == 1.0),
            "fully off after the fade"
        );
    }
}
