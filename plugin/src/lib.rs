//! Stem Master: a stem and stereo mastering plugin (VST3 and CLAP).
//!
//! This file only wires things together: the host's parameters go into the
//! [`engine::Engine`], what the engine measures goes into
//! [`shared::SharedState`], and the [`editor`] shows both.

use nice_plug::prelude::*;
use nice_plug_egui::EguiEditorState;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub mod cli;
pub mod delivery;
pub mod dsp;
pub mod editor;
pub mod engine;
pub mod link;
pub mod meter;
pub mod params;
pub mod role;
pub mod shared;
#[cfg(test)]
mod test_support;
pub mod triage;

use engine::Engine;
use params::StemMasterParams;
use shared::{block_peak, SharedState};

/// The plugin instance a host creates.
pub struct StemMaster {
    params: Arc<StemMasterParams>,
    engine: Engine,
    shared: Arc<SharedState>,
    /// Window size and open/closed state of the editor.
    editor_state: Arc<EguiEditorState>,
    /// Latency last reported to the host, in samples.
    reported_latency_samples: u32,
    /// Meter hops (10 ms) already published to the editor.
    published_hops: u64,
    /// History points already copied to the editor's ring.
    published_history_points: u64,
    /// Seconds of live triage already published to the editor.
    published_triage_seconds: u64,
    /// This instance's slot in the stem link, held while active.
    link_slot: Option<link::registry::SlotHandle>,
    /// As the master (role Full Mix): the linked stems and their hints.
    master_view: link::MasterView,
}

impl Default for StemMaster {
    fn default() -> Self {
        Self {
            params: Arc::new(StemMasterParams::default()),
            engine: Engine::new(),
            shared: Arc::new(SharedState::default()),
            editor_state: editor::default_state(),
            reported_latency_samples: 0,
            published_hops: 0,
            published_history_points: 0,
            published_triage_seconds: 0,
            link_slot: None,
            master_view: link::MasterView::default(),
        }
    }
}

impl Plugin for StemMaster {
    const NAME: &'static str = "Stem Master";
    const VENDOR: &'static str = "Stem Master";
    const URL: &'static str = env!("CARGO_PKG_REPOSITORY");
    const EMAIL: &'static str = "";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = nice_plug_egui::EguiEditor<editor::EditorApp>;

    fn filter_state(state: &mut PluginState) {
        match params::prepare_state(state) {
            params::StateLoad::Current => {}
            params::StateLoad::Migrated { from } => nice_log!(
                "state: migrated from format {from} to {}",
                params::STATE_VERSION
            ),
            params::StateLoad::Rejected { reason } => {
                nice_warn!("state: {reason}; loading the defaults")
            }
        }
    }

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(
            self.params.clone(),
            self.shared.clone(),
            self.editor_state.clone(),
        )
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let channels = audio_io_layout
            .main_output_channels
            .map(NonZeroU32::get)
            .unwrap_or(2) as usize;
        if let Err(error) = self.engine.prepare(
            buffer_config.sample_rate,
            buffer_config.max_buffer_size as usize,
            channels,
        ) {
            nice_error!("cannot activate: {error}");
            return false;
        }
        self.reset();
        self.reported_latency_samples = self.engine.latency_samples();
        context.set_latency_samples(self.reported_latency_samples);
        self.shared
            .sample_rate_hz
            .store(buffer_config.sample_rate, Ordering::Relaxed);
        self.shared
            .channels
            .store(channels as u32, Ordering::Relaxed);
        self.shared
            .latency_samples
            .store(self.reported_latency_samples, Ordering::Relaxed);
        // Claim a fresh slot in the stem link (the old one, if any, is
        // released first).
        self.link_slot = None;
        let name = self
            .params
            .link_name
            .read()
            .map(|name| name.clone())
            .unwrap_or_default();
        self.link_slot = link::registry::claim(
            self.params.link_group_checked(),
            self.params.role.value(),
            &name,
            link::registry::now_ms(),
        );
        if self.link_slot.is_none() {
            nice_warn!("stem link: all slots taken; this instance is not linked");
        }
        self.shared.link_slot.store(
            self.link_slot
                .as_ref()
                .map_or(-1, |slot| slot.index() as i32),
            Ordering::Relaxed,
        );
        self.shared.link_token.store(
            self.link_slot.as_ref().map_or(0, |slot| slot.token()),
            Ordering::Relaxed,
        );
        true
    }

    fn deactivate(&mut self) {
        self.link_slot = None;
        self.shared.link_slot.store(-1, Ordering::Relaxed);
        self.shared.linked_stems.store(0, Ordering::Relaxed);
    }

    fn reset(&mut self) {
        self.engine.set_settings(&self.params.engine_settings());
        self.engine.reset();
        self.published_hops = 0;
        self.published_history_points = 0;
        self.published_triage_seconds = 0;
        self.shared.history.clear();
        self.shared.triage.clear();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        if self
            .shared
            .reset_statistics_requested
            .swap(false, Ordering::Relaxed)
        {
            self.engine.analyzer_mut().reset_statistics();
        }
        let channels = buffer.as_slice();
        SharedState::hold_peak(&self.shared.input_peak, block_peak(channels));
        let learning = self.shared.learning.load(Ordering::Relaxed);
        self.engine.set_learning(learning);
        self.engine.set_settings(&self.params.engine_settings());
        self.engine.process(channels);
        SharedState::hold_peak(&self.shared.output_peak, block_peak(channels));
        if self.editor_state.is_open() {
            shared::push_scope(&self.shared.scope, channels);
        }
        let reduction = self.engine.gain_reduction();
        for (held, value) in self.shared.gain_reduction_db.iter().zip([
            reduction.deharsh_db,
            reduction.stabilizer_db,
            reduction.glue_db,
            reduction.limiter_db,
        ]) {
            SharedState::hold_peak(held, value);
        }
        self.publish_meters();
        if learning {
            self.shared.learned_lufs.store(self.engine.learned_lufs());
        }

        let latency = self.engine.latency_samples();
        if latency != self.reported_latency_samples {
            self.reported_latency_samples = latency;
            context.set_latency_samples(latency);
            self.shared
                .latency_samples
                .store(latency, Ordering::Relaxed);
        }
        ProcessStatus::Normal
    }
}

impl StemMaster {
    /// What the instance shares with its editor (meters, requests).
    pub fn shared(&self) -> &Arc<SharedState> {
        &self.shared
    }

    /// Its parameters, for tools that drive it without a host.
    pub fn parameters(&self) -> &Arc<StemMasterParams> {
        &self.params
    }

    /// Copies new meter readings, spectrum and history points to the shared
    /// state, once per completed 10 ms meter hop. Never allocates.
    fn publish_meters(&mut self) {
        let analyzer = self.engine.analyzer();
        if analyzer.hops_done() == self.published_hops {
            return;
        }
        self.published_hops = analyzer.hops_done();
        let readings = analyzer.readings();
        self.shared.meters.store(&readings);
        let spectrum = analyzer.spectrum().sixth_octave_db();
        self.shared.spectrum_db.write(|bins| {
            for (bin, value) in bins.iter_mut().zip(spectrum) {
                *bin = *value;
            }
        });
        let history = analyzer.history();
        // Points older than the analyzer's own ring were lost only if one
        // block spanned more than its capacity; start from what it holds.
        let oldest = history.pushed() - history.len() as u64;
        for index in self.published_history_points.max(oldest)..history.pushed() {
            if let Some(point) = history.get(index) {
                self.shared
                    .history
                    .push(point.momentary_lufs, point.short_term_lufs);
            }
        }
        self.published_history_points = history.pushed();
        self.publish_to_link(&readings);
        if self.engine.triage().seconds() != self.published_triage_seconds {
            self.update_master_view(&readings);
        }
        let triage = self.engine.triage();
        if triage.seconds() != self.published_triage_seconds {
            self.published_triage_seconds = triage.seconds();
            let verdict = triage.verdict(&self.engine.triage_context());
            self.shared.triage.store(triage, &verdict);
        }
    }
}

impl StemMaster {
    /// As the master, judges the linked stems once per triage second and
    /// feeds the link hints to the live triage (no allocation).
    fn update_master_view(&mut self, readings: &meter::AnalyzerReadings) {
        let is_master = self.params.role.value() == role::StemRole::FullMix;
        let findings = if is_master && self.link_slot.is_some() {
            let mix_lufs = readings
                .loudness
                .integrated_lufs
                .or(readings.loudness.short_term_lufs)
                .map_or(f32::NAN, |x| x as f32);
            self.master_view.update(
                self.params.link_group_checked(),
                self.link_slot.as_ref().map(|slot| slot.index()),
                link::registry::now_ms(),
                mix_lufs,
            )
        } else {
            [
                (triage::HintId::StemBalance, triage::Finding::default()),
                (triage::HintId::Masking, triage::Finding::default()),
                (triage::HintId::LowEndConflict, triage::Finding::default()),
            ]
        };
        self.engine.triage_mut().push_link(&findings);
        self.shared
            .linked_stems
            .store(self.master_view.stems() as u32, Ordering::Relaxed);
    }

    /// Publishes the meters to the stem link (atomic stores; no allocation).
    fn publish_to_link(&mut self, readings: &meter::AnalyzerReadings) {
        let Some(slot) = &self.link_slot else {
            return;
        };
        let role = self.params.role.value();
        let analyzer = self.engine.analyzer();
        let mut bands = [0.0f32; meter::spectrum::SIXTH_OCTAVE_BINS];
        analyzer.spectrum().medium_sixth_octave_db(&mut bands);
        let publication = link::StemPublication::measure(
            role,
            self.shared.sample_rate_hz.load(Ordering::Relaxed),
            readings,
            &bands,
            analyzer
                .stereo()
                .and_then(|stereo| stereo.low_band_share_db()),
        );
        slot.publish(
            &publication,
            self.params.link_group_checked(),
            link::registry::now_ms(),
        );
    }
}

impl ClapPlugin for StemMaster {
    const CLAP_ID: &'static str = "com.stem-master.stem-master";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Stem and stereo mastering with loudness metering and triage hints");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Mastering,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for StemMaster {
    /// Permanent: hosts identify saved instances by it.
    const VST3_CLASS_ID: [u8; 16] = *b"StemMasterPlugV1";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Mastering];
}

nice_export_clap!(StemMaster);
nice_export_vst3!(StemMaster);
