//! (filled in by the drift work)
