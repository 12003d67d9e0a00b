//! (filled in by the faults work)
