//! (filled in by the hostile work)
