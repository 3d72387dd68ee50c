//! WAV input and output for the command-line tool: streaming reads of
//! integer and float files, and writes that only ever replace the target
//! with a complete file.

use hound::{SampleFormat, WavReader, WavSpec, WavWriter};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

/// Lowest sample rate accepted, in Hz.
pub const MIN_SAMPLE_RATE_HZ: u32 = 22_050;
/// Highest sample rate accepted, in Hz.
pub const MAX_SAMPLE_RATE_HZ: u32 = 384_000;

/// A WAV file opened for reading block by block.
pub struct WavSource {
    reader: WavReader<BufReader<File>>,
    /// Channels per frame (1 or 2).
    channels: usize,
    /// Sample rate, in Hz.
    sample_rate_hz: u32,
    /// Frames in the file according to its header.
    frames: u64,
    /// Factor from the file's integer samples to full scale 1.0 (0 for float).
    int_scale: f32,
}

impl WavSource {
    /// Opens `path` and checks that Stem Master can process it: 16/24/32-bit
    /// integer or 32-bit float PCM, 1 or 2 channels, 22.05 to 384 kHz.
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = File::open(path).map_err(|error| error.to_string())?;
        // Every failure past opening the file is a problem with its content.
        let reader = WavReader::new(BufReader::new(file))
            .map_err(|error| format!("not a readable WAV file ({})", hound_message(&error)))?;
        let spec = reader.spec();
        let int_scale = match (spec.sample_format, spec.bits_per_sample) {
            (SampleFormat::Int, bits @ (16 | 24 | 32)) => 1.0 / (1u64 << (bits - 1)) as f32,
            (SampleFormat::Float, 32) => 0.0,
            (format, bits) => {
                let kind = if format == SampleFormat::Float {
                    "float"
                } else {
                    "integer"
                };
                return Err(format!(
                    "unsupported sample format: {bits}-bit {kind} (16/24/32-bit integer or 32-bit float)"
                ));
            }
        };
        if !(1..=2).contains(&spec.channels) {
            return Err(format!(
                "unsupported channel count {} (mono or stereo)",
                spec.channels
            ));
        }
        if !(MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&spec.sample_rate) {
            return Err(format!(
                "unsupported sample rate {} Hz ({MIN_SAMPLE_RATE_HZ} to {MAX_SAMPLE_RATE_HZ} Hz)",
                spec.sample_rate
            ));
        }
        Ok(Self {
            frames: u64::from(reader.duration()),
            channels: usize::from(spec.channels),
            sample_rate_hz: spec.sample_rate,
            int_scale,
            reader,
        })
    }

    /// Channels per frame.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Sample rate, in Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// Frames the header announces.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Reads up to `planar[0].len()` frames into the planar buffers (one per
    /// channel) and returns how many were read; 0 at the end of the file.
    /// A file shorter than its header says is an error.
    pub fn read_block(&mut self, planar: &mut [Vec<f32>]) -> Result<usize, String> {
        let capacity = planar.first().map_or(0, Vec::len);
        let channels = self.channels;
        let mut frames = 0;
        if self.int_scale == 0.0 {
            let mut samples = self.reader.samples::<f32>();
            while frames < capacity {
                for (channel, buffer) in planar.iter_mut().enumerate().take(channels) {
                    match samples.next() {
                        Some(Ok(sample)) => buffer[frames] = sample,
                        Some(Err(error)) => return Err(read_error(error)),
                        None if channel == 0 => return Ok(frames),
                        None => return Err("the file ends inside a frame".to_string()),
                    }
                }
                frames += 1;
            }
        } else {
            let scale = self.int_scale;
            let mut samples = self.reader.samples::<i32>();
            while frames < capacity {
                for (channel, buffer) in planar.iter_mut().enumerate().take(channels) {
                    match samples.next() {
                        Some(Ok(sample)) => buffer[frames] = sample as f32 * scale,
                        Some(Err(error)) => return Err(read_error(error)),
                        None if channel == 0 => return Ok(frames),
                        None => return Err("the file ends inside a frame".to_string()),
                    }
                }
                frames += 1;
            }
        }
        Ok(frames)
    }
}

fn read_error(error: hound::Error) -> String {
    match &error {
        hound::Error::IoError(io) if is_end_of_file(io) => {
            "the file is truncated (shorter than its header says)".to_string()
        }
        _ => format!("cannot read samples ({})", hound_message(&error)),
    }
}

/// Whether an I/O error from hound means the data ended early (hound reports
/// some of these as `ErrorKind::Other` with a fixed message).
fn is_end_of_file(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::UnexpectedEof
        || error.to_string().contains("Failed to read enough bytes")
}

fn hound_message(error: &hound::Error) -> String {
    match error {
        hound::Error::IoError(io) if is_end_of_file(io) => "it ends early".to_string(),
        other => other.to_string(),
    }
}

/// Sample format of a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// 32-bit IEEE float, unclipped.
    Float32,
    /// 24-bit integer, rounded to nearest (no dither), clipped to full scale.
    Int24,
    /// 16-bit integer with TPDF dither of ±1 LSB peak, clipped to full scale.
    Int16Dithered,
    /// 16-bit integer, rounded to nearest (no dither), clipped to full scale.
    Int16,
}

/// A WAV file being written to a temporary path next to its destination; it
/// replaces the destination only in [`WavSink::commit`], so a failed or
/// interrupted write never leaves a partial file under the destination name.
pub struct WavSink {
    writer: Option<WavWriter<BufWriter<File>>>,
    /// Handle on the temporary file, for `sync_all` after the header is final.
    file: File,
    temp_path: PathBuf,
    final_path: PathBuf,
    format: OutputFormat,
    /// TPDF dither generator state (xorshift32), never zero.
    dither_state: u32,
}

impl WavSink {
    /// Creates the temporary file for `final_path`.
    pub fn create(
        final_path: &Path,
        channels: usize,
        sample_rate_hz: u32,
        format: OutputFormat,
    ) -> Result<Self, String> {
        let file_name = final_path
            .file_name()
            .ok_or_else(|| format!("{} is not a file name", final_path.display()))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(file_name);
        temp_name.push(format!(".{}.partial", std::process::id()));
        let temp_path = final_path.with_file_name(temp_name);
        let (bits_per_sample, sample_format) = match format {
            OutputFormat::Float32 => (32, SampleFormat::Float),
            OutputFormat::Int24 => (24, SampleFormat::Int),
            OutputFormat::Int16 | OutputFormat::Int16Dithered => (16, SampleFormat::Int),
        };
        let spec = WavSpec {
            channels: channels as u16,
            sample_rate: sample_rate_hz,
            bits_per_sample,
            sample_format,
        };
        let file = File::create(&temp_path)
            .map_err(|error| format!("cannot create {}: {error}", temp_path.display()))?;
        let clone = file
            .try_clone()
            .map_err(|error| format!("cannot create {}: {error}", temp_path.display()))?;
        let writer = WavWriter::new(BufWriter::new(clone), spec)
            .map_err(|error| format!("cannot write {}: {error}", temp_path.display()));
        let writer = match writer {
            Ok(writer) => writer,
            Err(error) => {
                let _ = std::fs::remove_file(&temp_path);
                return Err(error);
            }
        };
        Ok(Self {
            writer: Some(writer),
            file,
            temp_path,
            final_path: final_path.to_path_buf(),
            format,
            dither_state: 0x9E37_79B9,
        })
    }

    /// Appends `frames` frames from planar buffers.
    pub fn write_block(
        &mut self,
        planar: &[&[f32]],
        range: std::ops::Range<usize>,
    ) -> Result<(), String> {
        let Some(writer) = self.writer.as_mut() else {
            return Err("the output is already closed".to_string());
        };
        let result = match self.format {
            OutputFormat::Float32 => range.clone().try_for_each(|frame| {
                planar
                    .iter()
                    .try_for_each(|channel| writer.write_sample(channel[frame]))
            }),
            OutputFormat::Int24 => range.clone().try_for_each(|frame| {
                planar
                    .iter()
                    .try_for_each(|channel| writer.write_sample(quantize(channel[frame], 24, 0.0)))
            }),
            OutputFormat::Int16 => range.clone().try_for_each(|frame| {
                planar.iter().try_for_each(|channel| {
                    writer.write_sample(quantize(channel[frame], 16, 0.0) as i16)
                })
            }),
            OutputFormat::Int16Dithered => range.clone().try_for_each(|frame| {
                planar.iter().try_for_each(|channel| {
                    let dither = tpdf(&mut self.dither_state);
                    writer.write_sample(quantize(channel[frame], 16, dither) as i16)
                })
            }),
        };
        result.map_err(|error| format!("cannot write {}: {error}", self.temp_path.display()))
    }

    /// Finishes the file, flushes it to disk and renames it over the
    /// destination.
    pub fn commit(mut self) -> Result<(), String> {
        let writer = self.writer.take().expect("commit is called once");
        let temp = self.temp_path.display().to_string();
        writer
            .finalize()
            .map_err(|error| format!("cannot finish {temp}: {error}"))?;
        self.file
            .sync_all()
            .map_err(|error| format!("cannot flush {temp}: {error}"))?;
        std::fs::rename(&self.temp_path, &self.final_path).map_err(|error| {
            format!(
                "cannot move {temp} to {}: {error}",
                self.final_path.display()
            )
        })
    }
}

impl Drop for WavSink {
    /// An uncommitted sink removes its temporary file.
    fn drop(&mut self) {
        if self.temp_path.exists() {
            let _ = std::fs::remove_file(&self.temp_path);
        }
    }
}

/// Rounds `sample` (full scale 1.0) plus `dither_lsb` (in LSB) to a
/// `bits`-bit integer, clipped to the integer range. Full scale maps to
/// 2^(bits-1), the same factor used when reading, so integer files round-trip.
#[inline]
fn quantize(sample: f32, bits: u32, dither_lsb: f32) -> i32 {
    let full_scale = (1u64 << (bits - 1)) as f64;
    let value = (f64::from(sample) * full_scale + f64::from(dither_lsb)).round();
    value.clamp(-full_scale, full_scale - 1.0) as i32
}

/// Triangular (TPDF) dither in LSB: the sum of two independent uniform
/// values in [-0.5, 0.5), so its peak is ±1 LSB and it decorrelates the
/// rounding error from the signal (Lipshitz, Wannamaker, Vanderkooy 1992).
#[inline]
fn tpdf(state: &mut u32) -> f32 {
    uniform(state) + uniform(state)
}

/// Uniform value in [-0.5, 0.5) from a xorshift32 generator.
#[inline]
fn uniform(state: &mut u32) -> f32 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    (x >> 8) as f32 / (1u32 << 24) as f32 - 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_rounds_and_clips() {
        assert_eq!(quantize(0.5, 16, 0.0), 16_384);
        assert_eq!(quantize(-1.0, 16, 0.0), -32_768);
        assert_eq!(quantize(1.0, 16, 0.0), 32_767);
        assert_eq!(quantize(2.0, 24, 0.0), 8_388_607);
        assert_eq!(quantize(1.4 / 32_768.0, 16, 0.0), 1);
        assert_eq!(quantize(1.6 / 32_768.0, 16, 0.0), 2);
    }

    #[test]
    fn tpdf_dither_is_triangular_with_one_lsb_peak() {
        let mut state = 1;
        let values: Vec<f32> = (0..200_000).map(|_| tpdf(&mut state)).collect();
        assert!(values.iter().all(|v| (-1.0..1.0).contains(v)));
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32;
        // Sum of two uniform variables of variance 1/12 each: 1/6. With 2e5
        // samples the standard error of the variance is about 0.0004.
        assert!(mean.abs() < 0.005, "mean {mean}");
        assert!((variance - 1.0 / 6.0).abs() < 0.003, "variance {variance}");
        // Triangular: about 3/4 of values lie within ±0.5 LSB.
        let inner = values.iter().filter(|v| v.abs() < 0.5).count() as f32 / values.len() as f32;
        assert!((inner - 0.75).abs() < 0.01, "inner share {inner}");
    }
}
