#![forbid(unsafe_code)]
//! placeholder
pub mod sigv4;
