//! A host for driving the plugin type without a wrapper, as the wrappers
//! do: activation, parameter changes, processing under `assert_no_alloc`
//! (the test binary must install `nice_assert_no_alloc::AllocDisabler` as
//! its global allocator), latency reports.

use nice_plug::prelude::*;
use std::cell::Cell;
use stem_master::StemMaster;

/// Records what the plugin tells the host.
pub struct TestHost {
    pub transport: Transport,
    /// Latency last reported, in samples; `None` until reported.
    pub latency: Cell<Option<u32>>,
}

impl TestHost {
    pub fn new(sample_rate: f32) -> Self {
        Self {
            transport: Transport::new(sample_rate),
            latency: Cell::new(None),
        }
    }
}

impl ActivateContext<StemMaster> for TestHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute(&self, _task: ()) {}
    fn set_latency_samples(&self, samples: u32) {
        self.latency.set(Some(samples));
    }
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

impl ProcessContext<StemMaster> for TestHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute_background(&self, _task: ()) {}
    fn execute_gui(&self, _task: ()) {}
    fn transport(&self) -> &Transport {
        &self.transport
    }
    fn next_event(&mut self) -> Option<PluginNoteEvent<StemMaster>> {
        None
    }
    fn try_send_event(
        &mut self,
        event: PluginNoteEvent<StemMaster>,
    ) -> Result<
        (),
        (
            PluginNoteEvent<StemMaster>,
            nice_plug::context::process::SendEventError,
        ),
    > {
        Err((
            event,
            nice_plug::context::process::SendEventError::NoOutputBuffer,
        ))
    }
    fn set_latency_samples(&self, samples: u32) {
        self.latency.set(Some(samples));
    }
    fn request_restart(&self) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

/// Sets a parameter by ID from a plain value, as host automation does.
pub fn set_param(plugin: &StemMaster, id: &str, plain: f32) {
    let params = plugin.params();
    let map = params.param_map();
    let (_, param, _) = map
        .iter()
        .find(|(known, _, _)| known == id)
        .expect("known id");
    // SAFETY: the params object outlives this call and no audio thread runs.
    unsafe {
        let normalized = param.preview_normalized(plain);
        param._internal_set_normalized_value(normalized);
    }
}

pub fn activate(plugin: &mut StemMaster, host: &mut TestHost, sample_rate: f32, max_block: u32) {
    let layout = StemMaster::AUDIO_IO_LAYOUTS[0];
    let config = BufferConfig {
        sample_rate,
        min_buffer_size: None,
        max_buffer_size: max_block,
        process_mode: ProcessMode::Realtime,
    };
    assert!(plugin.activate(&layout, &config, host));
    plugin.reset();
}

/// Processes `audio` in blocks of `block` frames, inside `assert_no_alloc`.
pub fn process(plugin: &mut StemMaster, host: &mut TestHost, audio: &mut [Vec<f32>], block: usize) {
    let frames = audio[0].len();
    let [left, right] = audio else {
        panic!("stereo")
    };
    let (left, right) = (left.as_mut_ptr(), right.as_mut_ptr());
    // The buffer's slice list is allocated once, outside the checked region,
    // as the wrappers do.
    let mut buffer = Buffer::default();
    // SAFETY: no slices are stored yet.
    unsafe { buffer.set_slices(0, |slices| slices.reserve(2)) };
    nice_assert_no_alloc::assert_no_alloc(|| {
        let mut start = 0;
        while start < frames {
            let end = (start + block).min(frames);
            // SAFETY: both pointers address `frames` samples of `audio`, which
            // outlives this loop; the two channels do not overlap and each
            // block's slices are replaced before the next block is made.
            unsafe {
                buffer.set_slices(end - start, |slices| {
                    slices.clear();
                    slices.push(std::slice::from_raw_parts_mut(left.add(start), end - start));
                    slices.push(std::slice::from_raw_parts_mut(
                        right.add(start),
                        end - start,
                    ));
                })
            };
            let mut aux = AuxiliaryBuffers {
                inputs: &mut [],
                outputs: &mut [],
            };
            assert_eq!(
                plugin.process(&mut buffer, &mut aux, host),
                ProcessStatus::Normal
            );
            start = end;
        }
    });
}
