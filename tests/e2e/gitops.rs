//! (filled in by the gitops work)
