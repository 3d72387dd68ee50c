//! Nothing on the audio path allocates: every processing module and meter
//! runs `process`, `set_params`, `reset` and its getters under
//! `assert_no_alloc`, which aborts this test binary on any allocation. One
//! binary for all of them, since the allocator guard is process-wide.

// With the `assert_process_allocs` feature nice-plug installs the same
// allocator.
#[cfg(not(feature = "assert_process_allocs"))]
#[global_allocator]
static ALLOCATOR: nice_assert_no_alloc::AllocDisabler = nice_assert_no_alloc::AllocDisabler;

#[path = "no_alloc/deharsh.rs"]
mod deharsh;
#[path = "no_alloc/glue.rs"]
mod glue;
#[path = "no_alloc/limiter.rs"]
mod limiter;
#[path = "no_alloc/low_end.rs"]
mod low_end;
#[path = "no_alloc/meter_spectrum_stereo.rs"]
mod meter_spectrum_stereo;
#[path = "no_alloc/punch.rs"]
mod punch;
#[path = "no_alloc/tone.rs"]
mod tone;
#[path = "no_alloc/width.rs"]
mod width;
