//! (filled in by the chaos work)
