//! KEDA's `keda.sh/v1alpha1` API: types with every field of KEDA 2.20's CRDs, KEDA's defaults, and KEDA's
//! validation rules with KEDA's messages. See `shared/reference/keda.md` §1.

pub mod meta;
pub mod scaled_object;

pub use meta::ObjectMeta;
pub use scaled_object::*;
