//! One writing SQLite transaction of this process at a time (`Store::read` does not enter).
//!
//! SQLite lets one connection write at a time. Another that wants to write meanwhile waits in
//! SQLite's busy handler, which sleeps 1, 2, 5, 10 … up to 100 ms between attempts. With many
//! writes in parallel (16 connections rotating refresh tokens) most of the time went to those
//! sleeps and to failed lock attempts (docs/performance.md): the write lock sat idle while
//! writers slept. So a process lets its writing transactions in one at a time: the others wait
//! on a mutex and are woken the moment the previous one commits. Read-only transactions skip
//! the gate (in WAL mode readers never wait for the writer). Other processes on the same file
//! (the CLI, a second server by mistake) still meet `busy_timeout`. PostgreSQL has row locks
//! and MVCC; it takes no gate.
//!
//! The gate is re-entrant per thread (a store method called inside another's transaction on
//! the same thread does not wait for itself).

use std::cell::Cell;
use std::sync::{Mutex, MutexGuard, PoisonError};

pub(crate) struct WriterGate {
    /// `None` on PostgreSQL.
    lock: Option<Mutex<()>>,
}

thread_local! {
    /// Whether this thread is already inside the gate.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// This thread's turn; the next waiter goes in when it is dropped.
pub(crate) struct Turn<'a> {
    _guard: Option<MutexGuard<'a, ()>>,
}

impl WriterGate {
    pub(crate) fn new(serialise: bool) -> Self {
        Self { lock: serialise.then(|| Mutex::new(())) }
    }

    /// Waits for this thread's turn (at once on PostgreSQL, or when it already has it).
    pub(crate) fn enter(&self) -> Turn<'_> {
        let Some(lock) = &self.lock else { return Turn { _guard: None } };
        if INSIDE.with(Cell::get) {
            return Turn { _guard: None };
        }
        // A transaction that panicked left nothing half-done in SQLite (rolled back on drop).
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        INSIDE.with(|inside| inside.set(true));
        Turn { _guard: Some(guard) }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self._guard.is_some() {
            INSIDE.with(|inside| inside.set(false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn one_thread_at_a_time_inside() {
        let gate = Arc::new(WriterGate::new(true));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, inside, most) = (Arc::clone(&gate), Arc::clone(&inside), Arc::clone(&most));
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        let _turn = gate.enter();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(50));
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_thread_inside_can_enter_again_and_postgres_never_waits() {
        let gate = WriterGate::new(true);
        let outer = gate.enter();
        let inner = gate.enter(); // would deadlock if the gate were not re-entrant
        drop(inner);
        assert!(INSIDE.with(Cell::get), "the outer turn still holds the gate");
        drop(outer);
        assert!(!INSIDE.with(Cell::get));

        let open = WriterGate::new(false);
        let _a = open.enter();
        let _b = open.enter();
    }
}
