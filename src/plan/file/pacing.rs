//! The pacing keys a plan sets at its top level and each `[[waves]]` table may override:
//! `wave_concurrency`, `namespace_bake` and `namespace_timeout`.

use crate::plan::model::PacingOverride;

use super::PlanError;
use super::values::{Doc, Value};

impl Doc<'_> {
    /// Reads `key` into `pacing` when it is a pacing key; false when it is another key.
    pub(super) fn pacing_key(
        &self,
        key: &str,
        value: &Value<'_>,
        field: &str,
        pacing: &mut PacingOverride,
    ) -> Result<bool, PlanError> {
        match key {
            "wave_concurrency" => {
                let n = self.count(value, field)?;
                if n == 0 {
                    return Err(self.error(
                        value.span(),
                        field,
                        "must be 1 or more: the namespaces moving at once",
                    ));
                }
                pacing.concurrency = Some(usize::try_from(n).unwrap_or(usize::MAX));
            }
            "namespace_bake" => pacing.bake = Some(self.duration(value, field)?),
            "namespace_timeout" => {
                let timeout = self.duration(value, field)?;
                if timeout.is_zero() {
                    return Err(self.error(value.span(), field, "must be more than 0s"));
                }
                pacing.timeout = Some(timeout);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
