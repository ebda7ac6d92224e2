//! KEDA's scale-loop decisions (`pkg/scaling`, `pkg/fallback`, `controllers/keda/hpa.go`): activation,
//! cooldown, idle/min replicas, pause annotations, fallback, metric naming, and the HPA KEDA derives from a
//! ScaledObject. See `shared/reference/keda.md` §2.
