//! Cross-spectra of a stereo pair, beside the power spectrum of
//! [`super::spectrum::SpectrumAnalyzer`] and with its frames, window and
//! calibration.
//!
//! Per FFT bin, three real quantities are kept, in full-scale² like the
//! power spectrum:
//!
//! * `difference`: (S_LL − S_RR)/2, half the difference of the channels'
//!   powers;
//! * `cross_re`, `cross_im`: the cross-spectrum S_LR = X_L·conj(X_R).
//!
//! With the channel-averaged power P = (S_LL + S_RR)/2 of the analyzer they
//! give everything about the pair: the mid (M = (L+R)/2) and side
//! (S = (L−R)/2) powers are (P ± Re S_LR)/2, and their cross-spectrum is
//! S_MS = (difference − j·Im S_LR)/2. [`super::delay`] reads them.
//!
//! As for the power, three averages are kept: medium term (3 s
//! exponential), the current second, and the programme (the sum over the
//! gated seconds since reset).

use realfft::num_complex::Complex;

/// The three averages of the three quantities.
#[derive(Debug, Clone)]
pub struct StereoSpectra {
    /// The first channel's transform of the current frame, kept until the
    /// second channel's arrives.
    first: Vec<Complex<f32>>,
    /// The current frame's difference, Re S_LR and Im S_LR per bin.
    frame: [Vec<f64>; 3],
    /// Their 3 s exponential averages.
    medium: [Vec<f64>; 3],
    /// Their sums over the frames of the current second.
    second: [Vec<f64>; 3],
    /// Their sums over the frames of the gated seconds since reset.
    programme: [Vec<f64>; 3],
}

/// One average of the cross-spectra, per FFT bin, full-scale² (the
/// programme's: full-scale² · frames).
#[derive(Debug, Clone, Copy)]
pub struct CrossSpectra<'a> {
    /// (S_LL − S_RR)/2.
    pub difference: &'a [f64],
    /// Re S_LR.
    pub cross_re: &'a [f64],
    /// Im S_LR.
    pub cross_im: &'a [f64],
}

impl StereoSpectra {
    /// Buffers for `bins` FFT bins.
    pub fn new(bins: usize) -> Self {
        let zeros = || [vec![0.0; bins], vec![0.0; bins], vec![0.0; bins]];
        Self {
            first: vec![Complex::new(0.0, 0.0); bins],
            frame: zeros(),
            medium: zeros(),
            second: zeros(),
            programme: zeros(),
        }
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        for set in [
            &mut self.frame,
            &mut self.medium,
            &mut self.second,
            &mut self.programme,
        ] {
            set.iter_mut().for_each(|v| v.fill(0.0));
        }
    }

    /// Takes channel `channel` (0 or 1) of the current frame: its
    /// unnormalised transform and the scale that turns |X|² into a
    /// one-sided mean square.
    pub(super) fn add_channel(&mut self, channel: usize, transform: &[Complex<f32>], scale: f64) {
        let [difference, cross_re, cross_im] = &mut self.frame;
        if channel == 0 {
            self.first.copy_from_slice(transform);
            for (d, x) in difference.iter_mut().zip(transform) {
                *d = 0.5 * scale * f64::from(x.norm_sqr());
            }
            return;
        }
        for (k, x) in transform.iter().enumerate() {
            let l = self.first[k];
            let (lr, li) = (f64::from(l.re), f64::from(l.im));
            let (rr, ri) = (f64::from(x.re), f64::from(x.im));
            difference[k] -= 0.5 * scale * (rr * rr + ri * ri);
            // X_L · conj(X_R)
            cross_re[k] = scale * (lr * rr + li * ri);
            cross_im[k] = scale * (li * rr - lr * ri);
        }
    }

    /// Completes the frame: DC and Nyquist at half weight (as the power
    /// spectrum), into the medium-term average (`coefficient` per frame,
    /// seeded by the first frame) and the second's sums.
    pub(super) fn finish_frame(&mut self, first_frame: bool, coefficient: f64) {
        for q in 0..3 {
            let frame = &mut self.frame[q];
            let last = frame.len() - 1;
            frame[0] *= 0.5;
            frame[last] *= 0.5;
            for ((x, medium), second) in frame
                .iter()
                .zip(self.medium[q].iter_mut())
                .zip(self.second[q].iter_mut())
            {
                *second += x;
                if first_frame {
                    *medium = *x;
                } else {
                    *medium += coefficient * (x - *medium);
                }
            }
        }
    }

    /// Ends the second: its sums join the programme's when `gated`.
    pub(super) fn close_second(&mut self, gated: bool) {
        for q in 0..3 {
            if gated {
                for (programme, second) in self.programme[q].iter_mut().zip(&self.second[q]) {
                    *programme += second;
                }
            }
            self.second[q].fill(0.0);
        }
    }

    /// The medium-term (3 s) cross-spectra.
    pub fn medium(&self) -> CrossSpectra<'_> {
        view(&self.medium)
    }

    /// The programme's cross-spectra (sums over the gated frames).
    pub fn programme(&self) -> CrossSpectra<'_> {
        view(&self.programme)
    }
}

fn view(set: &[Vec<f64>; 3]) -> CrossSpectra<'_> {
    CrossSpectra {
        difference: &set[0],
        cross_re: &set[1],
        cross_im: &set[2],
    }
}
