//! Shared inputs for flowwire's criterion benchmarks (see `benches/`).
