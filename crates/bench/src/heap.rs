//! A counting global allocator (over mimalloc, as the `tunnelform` binary) for the offline
//! worker's memory breakdown (measurement only).
//!
//! Off unless `TUNNELFORM_BENCH_HEAP=1` is set for `tunnelform-bench offline-worker`: then every
//! allocation and free adjusts a count of live heap bytes, so the worker can report what each
//! phase keeps alive (the live data, next to the RSS, which also holds what the allocator keeps
//! of freed memory). When off, the only cost is one relaxed load per allocation.

use std::alloc::{GlobalAlloc, Layout};

/// The allocator under the count: the one the `tunnelform` binary uses, so the offline worker
/// measures the product's allocation costs and footprint.
use mimalloc::MiMalloc as System;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

pub struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Starts counting when `TUNNELFORM_BENCH_HEAP=1` (from then on: earlier allocations are not
/// counted, so call it first). Returns whether counting is on.
pub fn start_from_env() -> bool {
    let on = std::env::var_os("TUNNELFORM_BENCH_HEAP").is_some_and(|v| v == "1");
    ON.store(on, Relaxed);
    on
}

pub fn on() -> bool {
    ON.load(Relaxed)
}

/// Live heap bytes counted so far (allocations minus frees since counting started; frees of
/// earlier allocations can make it slightly low).
pub fn live() -> usize {
    LIVE.load(Relaxed)
}

/// The highest [`live`] since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Relaxed)
}

pub fn reset_peak() {
    PEAK.store(LIVE.load(Relaxed), Relaxed);
}

fn added(n: usize) {
    let now = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
}

fn removed(n: usize) {
    // Saturating: a free of memory allocated before counting started is not subtracted below 0.
    let _ = LIVE.fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(n)));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() && ON.load(Relaxed) {
            added(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() && ON.load(Relaxed) {
            added(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        if ON.load(Relaxed) {
            removed(layout.size());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() && ON.load(Relaxed) {
            removed(layout.size());
            added(new_size);
        }
        p
    }
}
