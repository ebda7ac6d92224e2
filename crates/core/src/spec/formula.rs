//! A syntax check of `scalingModifiers.formula` (placeholder, see below).

/// Check that `formula` is a valid expression over `names`. Not implemented yet: accepts anything.
pub fn check(_formula: &str, _names: &[&str]) -> Result<(), String> {
    Ok(())
}
