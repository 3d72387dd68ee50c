//! Spectrum analysis (realfft): averaged spectra, 1/6-octave display bins, band energies.
