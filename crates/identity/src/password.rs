//! Password hashing: argon2id (DESIGN.md, "Secrets at rest") on a bounded pool of OS threads.
//!
//! One argon2id hash at OWASP parameters takes ~42 ms of a core and 19 MiB of memory, so it must
//! never run on an async worker, and how many run at once must be bounded, or a burst of sign-ins
//! would exhaust memory (DESIGN.md, "Hashing is CPU- and memory-heavy"). [`HashPool`] owns
//! `threads` dedicated threads; a caller first waits (asynchronously) for one of `threads`
//! semaphore permits, so at most `threads` jobs are ever queued or running:
//!
//! ```text
//! caller ──acquire permit (async, counted by waiting())──▶ job channel ──▶ worker thread
//!    ▲                                                                         │
//!    └──────────────── oneshot reply; the permit is released with the job ◀────┘
//! ```
//!
//! Each worker thread hashes with its own reused memory buffer ([`crate::hasher`]), so memory stays
//! at `threads × memory_kib` and no call allocates it afresh.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use argon2::{Algorithm, Argon2, Version};
use tokio::sync::{Semaphore, oneshot};

use crate::hasher::Hasher;

/// argon2id cost parameters. The defaults are OWASP's: m=19456 KiB, t=2, p=1.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2Params {
    /// Memory per hash, in KiB (argon2 `m`). Default 19456 (19 MiB).
    pub memory_kib: u32,
    /// Passes over memory (argon2 `t`). Default 2.
    pub iterations: u32,
    /// Lanes per hash (argon2 `p`). Default 1.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: argon2::Params::DEFAULT_M_COST,
            iterations: argon2::Params::DEFAULT_T_COST,
            parallelism: argon2::Params::DEFAULT_P_COST,
        }
    }
}

/// Why hashing could not be done. Wrong passwords are not errors: `verify` answers `false`.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("invalid argon2 parameters")]
    InvalidParams(#[source] argon2::Error),
    #[error("the hash pool needs at least one thread")]
    NoThreads,
    #[error("could not start a hashing thread")]
    Spawn(#[source] std::io::Error),
    #[error("password hashing failed")]
    Hash(#[source] argon2::password_hash::Error),
    #[error("the hashing thread stopped before answering")]
    PoolStopped,
}

/// A unit of work for a worker thread; it owns its reply sender and its semaphore permit.
type Job = Box<dyn FnOnce(&mut Hasher) + Send>;

/// Runs argon2id on `threads` dedicated OS threads (never on an async worker). At most `threads`
/// hashes run at once, so memory stays bounded at `threads × memory_kib` however many requests
/// wait; waiting is asynchronous. Cloning is cheap (an `Arc`); the threads end when the last clone
/// is dropped.
#[derive(Clone)]
pub struct HashPool {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: mpsc::Sender<Job>,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    /// Jobs handed to a worker, for tests that check "exactly one verification".
    started: AtomicU64,
    params: Argon2Params,
    threads: usize,
}

impl fmt::Debug for HashPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashPool")
            .field("params", &self.inner.params)
            .field("threads", &self.inner.threads)
            .field("waiting", &self.waiting())
            .finish_non_exhaustive()
    }
}

impl HashPool {
    /// Validates `params` and starts `threads` worker threads. Nothing is hashed and no argon2
    /// memory is taken until the first call.
    pub fn new(params: Argon2Params, threads: usize) -> Result<HashPool, PasswordError> {
        if threads == 0 {
            return Err(PasswordError::NoThreads);
        }
        let argon2_params =
            argon2::Params::new(params.memory_kib, params.iterations, params.parallelism, None)
                .map_err(PasswordError::InvalidParams)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params);

        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = Arc::clone(&receiver);
            let argon2 = argon2.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(&receiver, Hasher::new(argon2)))
                .map_err(PasswordError::Spawn)?;
        }
        Ok(HashPool {
            inner: Arc::new(Inner {
                jobs,
                permits: Arc::new(Semaphore::new(threads)),
                waiting: AtomicUsize::new(0),
                started: AtomicU64::new(0),
                params,
                threads,
            }),
        })
    }

    /// Hashes `password` with a fresh random salt; returns the PHC string (`$argon2id$v=19$…`).
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        self.run(move |hasher| hasher.hash(password.as_bytes())).await?.map_err(PasswordError::Hash)
    }

    /// Whether `password` matches `phc`. When `phc` is `None` (no such account, or no password)
    /// or unparseable, it does the work of a check at the pool's parameters and answers `false`,
    /// so the time taken does not tell whether the account exists. Infrastructure failures also
    /// answer `false`.
    pub async fn verify(&self, password: String, phc: Option<String>) -> bool {
        let outcome = self
            .run(move |hasher| match phc {
                Some(phc) => hasher.verify(password.as_bytes(), &phc),
                None => {
                    hasher.stand_in(password.as_bytes());
                    false
                }
            })
            .await;
        outcome.unwrap_or(false)
    }

    /// How many calls are waiting for a thread (a metric).
    pub fn waiting(&self) -> usize {
        self.inner.waiting.load(Ordering::Relaxed)
    }

    /// How many hashes hold a thread's permit: queued for or running on a worker (a metric;
    /// at most [`HashPool::threads`]).
    pub fn in_flight(&self) -> usize {
        self.inner.threads.saturating_sub(self.inner.permits.available_permits())
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> &Argon2Params {
        &self.inner.params
    }

    /// How many hashes may run at once.
    pub fn threads(&self) -> usize {
        self.inner.threads
    }

    /// Runs `work` on a worker thread once a permit is free. The permit travels with the job, so
    /// a caller that gives up (its future dropped) still holds its slot until the work ends.
    async fn run<T, F>(&self, work: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Hasher) -> T + Send + 'static,
    {
        let permit = {
            let _waiting = WaitingGuard::enter(&self.inner.waiting);
            Arc::clone(&self.inner.permits).acquire_owned().await.map_err(|_| PasswordError::PoolStopped)?
        };
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |hasher| {
            let out = work(hasher);
            drop(permit);
            // The caller may have gone away; nobody else wants the answer.
            let _ = reply.send(out);
        });
        self.inner.started.fetch_add(1, Ordering::Relaxed);
        self.inner.jobs.send(job).map_err(|_| PasswordError::PoolStopped)?;
        answer.await.map_err(|_| PasswordError::PoolStopped)
    }
}

/// A worker thread: takes jobs until every `HashPool` clone (the senders) is gone.
fn worker(jobs: &Mutex<mpsc::Receiver<Job>>, mut hasher: Hasher) {
    loop {
        let next = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else { return };
        // A panicking job must not shrink the pool; its caller sees the reply dropped.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut hasher)));
    }
}

/// Counts a caller in `waiting` until it has a permit or gives up.
struct WaitingGuard<'a>(&'a AtomicUsize);

impl<'a> WaitingGuard<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    /// Cheap parameters so tests stay fast.
    pub(crate) fn cheap_pool() -> HashPool {
        let params = Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 };
        HashPool::new(params, 2).unwrap()
    }

    pub(crate) fn started(pool: &HashPool) -> u64 {
        pool.inner.started.load(Ordering::Relaxed)
    }

    #[tokio::test]
    async fn hash_then_verify_accepts_the_password_and_rejects_others() {
        let pool = cheap_pool();
        let phc = pool.hash("Correct horse 1".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(pool.verify("Correct horse 1".into(), Some(phc.clone())).await);
        assert!(!pool.verify("correct horse 1".into(), Some(phc)).await);
    }

    #[tokio::test]
    async fn each_hash_has_a_fresh_salt() {
        let pool = cheap_pool();
        let a = pool.hash("same".into()).await.unwrap();
        let b = pool.hash("same".into()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn default_owasp_parameters_hash_and_verify() {
        assert_eq!(
            Argon2Params::default(),
            Argon2Params { memory_kib: 19456, iterations: 2, parallelism: 1 }
        );
        let pool = HashPool::new(Argon2Params::default(), 1).unwrap();
        let phc = pool.hash("Tr0ub4dor&3".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(pool.verify("Tr0ub4dor&3".into(), Some(phc)).await);
    }

    #[tokio::test]
    async fn missing_hash_runs_one_verification_and_fails() {
        let pool = cheap_pool();
        let before = started(&pool);
        assert!(!pool.verify(String::new(), None).await);
        assert!(!pool.verify("gatehouse: no account has this password".into(), None).await);
        assert_eq!(started(&pool) - before, 2);
    }

    /// The dummy check must cost a real argon2 run: a short-circuit would take microseconds.
    #[tokio::test]
    async fn missing_or_garbage_hash_takes_as_long_as_a_real_check() {
        let pool = HashPool::new(Argon2Params::default(), 1).unwrap();
        let phc = pool.hash("Tr0ub4dor&3".into()).await.unwrap();
        let fastest = |phc: Option<String>| {
            let pool = pool.clone();
            async move {
                let mut best = Duration::MAX;
                // The fastest of five, so other tests loading the cores do not decide the result.
                for _ in 0..5 {
                    let t = Instant::now();
                    pool.verify("wrong".into(), phc.clone()).await;
                    best = best.min(t.elapsed());
                }
                best
            }
        };
        let real = fastest(Some(phc)).await;
        let missing = fastest(None).await;
        let garbage = fastest(Some("garbage".into())).await;
        // Skipping the dummy check is ~500× faster; a 4× margin catches that and not noise.
        assert!(missing * 4 > real, "missing {missing:?} vs real {real:?}");
        assert!(garbage * 4 > real, "garbage {garbage:?} vs real {real:?}");
    }

    #[tokio::test]
    async fn garbage_hash_fails_without_panicking() {
        let pool = cheap_pool();
        for garbage in ["", "not a hash", "$argon2id$v=19$m=64,t=1,p=1$", "$2b$12$abcdefghijk"] {
            let before = started(&pool);
            assert!(!pool.verify("x".into(), Some(garbage.into())).await, "{garbage}");
            assert_eq!(started(&pool) - before, 1, "{garbage}");
        }
        // The pool still works afterwards.
        let phc = pool.hash("y".into()).await.unwrap();
        assert!(pool.verify("y".into(), Some(phc)).await);
    }

    #[test]
    fn invalid_parameters_and_zero_threads_are_rejected() {
        let bad = Argon2Params { memory_kib: 1, iterations: 1, parallelism: 1 };
        assert!(matches!(HashPool::new(bad, 1), Err(PasswordError::InvalidParams(_))));
        let bad = Argon2Params { memory_kib: 64, iterations: 0, parallelism: 1 };
        assert!(matches!(HashPool::new(bad, 1), Err(PasswordError::InvalidParams(_))));
        let ok = Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 };
        assert!(matches!(HashPool::new(ok, 0), Err(PasswordError::NoThreads)));
    }

    #[test]
    fn params_deserialize_with_defaults_and_reject_unknown_keys() {
        let p: Argon2Params = serde_json::from_str(r#"{"memory_kib": 65536}"#).unwrap();
        assert_eq!(p, Argon2Params { memory_kib: 65536, ..Argon2Params::default() });
        assert!(serde_json::from_str::<Argon2Params>(r#"{"memory": 1}"#).is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn never_more_than_threads_jobs_at_once() {
        let pool = cheap_pool(); // 2 threads
        let running = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let (pool, running, max, release) = (pool.clone(), running.clone(), max.clone(), release.clone());
            tasks.push(tokio::spawn(async move {
                pool.run(move |_| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    while !release.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
                .unwrap();
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !(running.load(Ordering::SeqCst) == 2 && pool.waiting() == 10) {
            assert!(Instant::now() < deadline, "pool never filled up");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Give a third job every chance to start if the bound were broken.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(running.load(Ordering::SeqCst), 2);
        assert_eq!(pool.in_flight(), 2, "both threads' permits are held");
        release.store(true, Ordering::SeqCst);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(max.load(Ordering::SeqCst), 2);
        assert_eq!(pool.waiting(), 0);
        assert_eq!(pool.in_flight(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_callers_stop_counting_as_waiting() {
        let pool = HashPool::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }, 1).unwrap();
        let release = Arc::new(AtomicBool::new(false));
        let blocker = {
            let (pool, release) = (pool.clone(), release.clone());
            tokio::spawn(async move {
                pool.run(move |_| {
                    while !release.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                })
                .await
            })
        };
        // The blocker must hold the only thread before the waiter arrives, or they race for it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while started(&pool) != 1 {
            assert!(Instant::now() < deadline, "blocker never started");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let waiter = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.hash("x".into()).await })
        };
        while pool.waiting() != 1 {
            assert!(Instant::now() < deadline, "waiter never queued");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(pool.waiting(), 0);
        release.store(true, Ordering::SeqCst);
        blocker.await.unwrap().unwrap();
    }
}
