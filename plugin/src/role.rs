//! The stem role: what kind of material an instance is inserted on.
//!
//! The role decides which expectations the analysis applies (a bass stem may
//! carry the low end, a vocal stem may be mono) and which starting point the
//! processing modules get. It is plain data, shared by the plugin, the CLI and
//! the analysis code.

/// What an instance of Stem Master is processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StemRole {
    Drums,
    Bass,
    Vocals,
    BackingVocals,
    Music,
    Effects,
    /// The whole mix, on the master bus.
    #[default]
    FullMix,
}

impl StemRole {
    /// Every role, in the order the parameter lists them. The index in this
    /// array is the parameter's plain value and must never change.
    pub const ALL: [StemRole; 7] = [
        StemRole::Drums,
        StemRole::Bass,
        StemRole::Vocals,
        StemRole::BackingVocals,
        StemRole::Music,
        StemRole::Effects,
        StemRole::FullMix,
    ];

    /// Permanent machine name: used on the command line, in JSON and in saved
    /// state. Never rename one.
    pub const fn id(self) -> &'static str {
        match self {
            StemRole::Drums => "drums",
            StemRole::Bass => "bass",
            StemRole::Vocals => "vocals",
            StemRole::BackingVocals => "backing-vocals",
            StemRole::Music => "music",
            StemRole::Effects => "effects",
            StemRole::FullMix => "full-mix",
        }
    }

    /// Name shown to the user.
    pub const fn display_name(self) -> &'static str {
        match self {
            StemRole::Drums => "Drums",
            StemRole::Bass => "Bass",
            StemRole::Vocals => "Vocals",
            StemRole::BackingVocals => "Backing Vocals",
            StemRole::Music => "Music",
            StemRole::Effects => "Effects",
            StemRole::FullMix => "Full Mix",
        }
    }

    /// Position in [`StemRole::ALL`].
    pub fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|&role| role == self)
            .expect("every role is listed in ALL")
    }

    /// The role at `index` in [`StemRole::ALL`], or Full Mix when out of range.
    pub fn from_index(index: usize) -> StemRole {
        Self::ALL.get(index).copied().unwrap_or_default()
    }

    /// Parses a machine name or a display name, ignoring case, spaces,
    /// hyphens and underscores ("backing-vocals", "Backing Vocals").
    pub fn parse(text: &str) -> Option<StemRole> {
        let wanted = normalize(text);
        Self::ALL
            .into_iter()
            .find(|role| normalize(role.id()) == wanted || normalize(role.display_name()) == wanted)
    }
}

fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_back_and_indices_are_stable() {
        let ids: Vec<&str> = StemRole::ALL.iter().map(|role| role.id()).collect();
        assert_eq!(
            ids,
            [
                "drums",
                "bass",
                "vocals",
                "backing-vocals",
                "music",
                "effects",
                "full-mix"
            ]
        );
        for (index, role) in StemRole::ALL.into_iter().enumerate() {
            assert_eq!(role.index(), index);
            assert_eq!(StemRole::from_index(index), role);
            assert_eq!(StemRole::parse(role.id()), Some(role));
            assert_eq!(StemRole::parse(role.display_name()), Some(role));
        }
        assert_eq!(
            StemRole::parse("Backing_Vocals"),
            Some(StemRole::BackingVocals)
        );
        assert_eq!(StemRole::parse("guitar"), None);
        assert_eq!(StemRole::from_index(99), StemRole::FullMix);
        assert_eq!(StemRole::default(), StemRole::FullMix);
    }
}
