//! The simulator: replays a metric timeline through the exact KEDA + HPA engine on a simulated cluster.
#![forbid(unsafe_code)]
