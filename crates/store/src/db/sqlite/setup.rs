//! SQLite's process-wide settings (its allocator, no memory statistics), made once.
//! Must not open a connection: `sqlite3_config` is refused once SQLite has initialised.
//!
//! perf of SQLite intake had SQLite's threads spend about a fifth of their time in glibc's
//! `malloc` and `free` and in mutexes, among them the one SQLite takes around every
//! allocation to keep its memory statistics (which nothing here reads). So SQLite allocates through Rust's global
//! allocator (mimalloc in the `motcua` binary), and its memory statistics are off.
//!
//! `sqlite3_config` is only allowed before SQLite initialises, and while no other thread
//! calls SQLite: `Db::connect` calls `configure` before its first connection (callers on
//! other threads wait for it), and so must anything else that opens SQLite in this process
//! (the store's own unit tests do). A process that opened SQLite before keeps SQLite's
//! defaults, and that is logged, not an error.

use libsqlite3_sys as ffi;
use std::alloc::{Layout, alloc, dealloc, realloc};
use std::ffi::{c_int, c_void};
use std::sync::Once;

/// Every block starts with its size (SQLite asks for it back, Rust's `dealloc` needs it).
const HEADER: usize = 8;
/// SQLite needs 8-byte alignment.
const ALIGN: usize = 8;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, ALIGN).ok()
}

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    let Some(l) = usize::try_from(n).ok().and_then(layout) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `l` has a non-zero size (the header).
    unsafe {
        let p = alloc(l);
        if p.is_null() {
            return p.cast();
        }
        p.cast::<usize>().write(l.size() - HEADER);
        p.add(HEADER).cast()
    }
}

/// The block's start and layout, from the pointer SQLite holds.
///
/// # Safety
/// `p` must come from `x_malloc` or `x_realloc` and not have been freed.
unsafe fn block(p: *mut c_void) -> (*mut u8, Layout) {
    // SAFETY: as the caller promises, the header is just before `p`.
    unsafe {
        let start = p.cast::<u8>().sub(HEADER);
        let size = start.cast::<usize>().read();
        (start, Layout::from_size_align_unchecked(size + HEADER, ALIGN))
    }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: SQLite frees only what this allocator gave it, once.
    unsafe {
        let (start, l) = block(p);
        dealloc(start, l);
    }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    if p.is_null() {
        // SAFETY: as `x_malloc`.
        return unsafe { x_malloc(n) };
    }
    let Some(new) = usize::try_from(n).ok().and_then(layout) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `p` is a live block of this allocator; on failure it stays as it was.
    unsafe {
        let (start, old) = block(p);
        let q = realloc(start, old, new.size());
        if q.is_null() {
            return q.cast();
        }
        q.cast::<usize>().write(new.size() - HEADER);
        q.add(HEADER).cast()
    }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    if p.is_null() {
        return 0;
    }
    // SAFETY: `p` is a live block of this allocator.
    let size = unsafe { p.cast::<u8>().sub(HEADER).cast::<usize>().read() };
    c_int::try_from(size).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    n.checked_add(ALIGN as c_int - 1)
        .map_or(n, |m| m & !(ALIGN as c_int - 1))
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Applies the settings once per process, before the first connection.
pub(crate) fn configure() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: both calls happen before SQLite initialises (or fail with SQLITE_MISUSE,
        // changing nothing); SQLite copies the methods, whose functions live as long as
        // the process.
        let (statistics, allocator) = unsafe {
            (
                ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int),
                ffi::sqlite3_config(
                    ffi::SQLITE_CONFIG_MALLOC,
                    &methods as *const ffi::sqlite3_mem_methods,
                ),
            )
        };
        if statistics != ffi::SQLITE_OK || allocator != ffi::SQLITE_OK {
            tracing::info!(
                statistics,
                allocator,
                "SQLite was initialised already: its defaults stay"
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_size_through_realloc_and_are_aligned() {
        // SAFETY: the allocator's own functions, used as SQLite uses them.
        unsafe {
            let p = x_malloc(13);
            assert!(!p.is_null());
            assert_eq!(p as usize % ALIGN, 0);
            assert_eq!(x_size(p), 13);
            p.cast::<u8>().write_bytes(7, 13);
            let q = x_realloc(p, 5000);
            assert_eq!(x_size(q), 5000);
            assert_eq!(std::slice::from_raw_parts(q.cast::<u8>(), 13), &[7; 13]);
            x_free(q);
            x_free(std::ptr::null_mut());
            assert_eq!(x_roundup(13), 16);
            assert_eq!(x_size(std::ptr::null_mut()), 0);
            assert!(x_malloc(-1).is_null());
        }
    }
}
