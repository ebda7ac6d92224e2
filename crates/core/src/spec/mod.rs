//! KEDA's `keda.sh/v1alpha1` API: types with every field of KEDA 2.20's CRDs, KEDA's defaults, and KEDA's
//! validation rules with KEDA's messages. See `../shared/reference/keda.md` §1.
//!
//! - [`load()`]: a multi-document YAML string → [`Document`]s (typed KEDA objects, other objects, errors),
//!   with warnings for the fields the CRD would prune.
//! - [`validate()`]: the API server's CRD checks, KEDA's admission webhook and the operator's build
//!   checks, each finding with KEDA's (or the API server's) message.
//! - [`crd`]: the embedded CRD field inventories and constraints.
//! - [`formula`]: the `scalingModifiers.formula` check (expr-lang grammar, trigger names).

pub mod crd;
pub mod finding;
pub mod formula;
pub mod go;
pub mod load;
pub mod meta;
pub mod scaled_job;
pub mod scaled_object;
pub mod trigger_authentication;
pub mod validate;

pub use crd::CrdKind;
pub use finding::{Finding, Severity};
pub use load::{Document, DocumentContent, KedaObject, ObjectRef, load, load_value};
pub use meta::ObjectMeta;
pub use scaled_job::*;
pub use scaled_object::*;
pub use trigger_authentication::*;
pub use validate::{Report, Status, validate};
