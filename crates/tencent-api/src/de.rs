//! Serde helpers.

use serde::{Deserialize, Deserializer};

/// Deserialises `null` (and, with `#[serde(default)]`, a missing field) as `T::default()`.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
