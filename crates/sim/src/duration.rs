//! Durations as scenario files write them; the parser lives in the engine (`prescale_core::duration`), which
//! also reads the `prescale.dev/` annotations with it.
pub use prescale_core::duration::*;
