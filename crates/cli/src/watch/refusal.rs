//! An `--auto-apply` refusal is said once: `apply_refused` is emitted when the refusal is new or
//! its reason (the plan's deletes and replacements) changed, not at every cycle it still stands;
//! the `tunnelform_apply_refused` gauge shows that it still does.

/// The refusal standing since the last cycle that considered applying, if any.
#[derive(Debug, Default)]
pub(super) struct Refusal {
    standing: Option<String>,
}

impl Refusal {
    /// Notes what this cycle decided (`Some(reason)`: refused; `None`: nothing refused, because
    /// the plan was applied or had nothing to apply). Returns whether the refusal is new or changed,
    /// and so is to be said.
    pub fn note(&mut self, reason: Option<&str>) -> bool {
        let new = reason.is_some_and(|r| self.standing.as_deref() != Some(r));
        self.standing = reason.map(str::to_string);
        new
    }

    /// Whether a refusal stands.
    pub fn standing(&self) -> bool {
        self.standing.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_said_when_new_or_changed_only() {
        let mut r = Refusal::default();
        assert!(!r.standing());
        assert!(r.note(Some("deletes a")));
        assert!(!r.note(Some("deletes a")), "the same refusal again");
        assert!(r.standing());
        assert!(r.note(Some("deletes a, b")), "another plan");
        assert!(!r.note(None));
        assert!(!r.standing());
        assert!(
            r.note(Some("deletes a, b")),
            "refused again after it cleared"
        );
    }
}
