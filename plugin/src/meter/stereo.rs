//! Stereo image: correlation (broadband and low band), balance, side-to-mid, mono fold-down loss.
