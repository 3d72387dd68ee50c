//! Stem Master as a standalone application (`--features standalone`): the
//! real plugin and editor on an audio backend, `--backend dummy` for none.

fn main() {
    nice_plug::prelude::nice_export_standalone::<stem_master::StemMaster>();
}
