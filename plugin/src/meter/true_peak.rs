//! True-peak measurement by oversampling (ITU-R BS.1770-5 Annex 2).
