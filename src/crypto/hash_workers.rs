//! Threads that run argon2, each with its own working memory (19 MiB of 1 KiB blocks with the OWASP
//! parameters).
//!
//! A worker takes the next queued check itself the moment it finishes one, so the cores never wait
//! for a hand-over between threads, and it keeps its memory while checks keep coming: allocating
//! 19 MiB afresh for every login costs about 4,900 page faults and an unmap (docs/benchmarks.md,
//! "Password logins"). A worker that has had nothing to do for [`LINGER`] frees its memory, so
//! an idle server holds none, and trims the C heap. On Linux the memory is advised for transparent huge pages, so fresh
//! memory faults in 2 MiB at a time and argon2's random block reads miss the TLB less.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use argon2::Block;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long an idle worker keeps its memory for the next check.
pub const LINGER: Duration = Duration::from_secs(2);

/// One check's blocks, sized on first use; reused as long as the block count stays the same.
#[derive(Default)]
pub struct HashMemory {
    blocks: Vec<Block>,
}

impl HashMemory {
    /// `count` blocks for argon2 (`Params::block_count`), reusing this memory when it has that size.
    pub fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.blocks.len() != count {
            self.blocks = Vec::new();
            let mut blocks = Vec::with_capacity(count);
            advise_huge_pages(&blocks);
            blocks.resize(count, Block::default());
            self.blocks = blocks;
        }
        &mut self.blocks
    }
}

/// Why a check did not run.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The queue was full, or no worker took the check before its deadline.
    Busy,
    /// The workers are gone, or the check panicked.
    Lost,
}

type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const ABANDONED: u8 = 2;

/// A fixed set of hashing threads behind a bounded queue; cheap to clone. The threads end when the
/// last clone is dropped.
#[derive(Clone)]
pub struct HashWorkers {
    jobs: flume::Sender<Job>,
}

impl HashWorkers {
    /// `threads` workers and room for `queue` checks waiting for one (at least one, so a check
    /// sent just as a worker finishes is not refused before the worker is back at the queue).
    pub fn new(threads: usize, queue: usize) -> Self {
        let (jobs, incoming) = flume::bounded::<Job>(queue.max(1));
        for index in 0..threads.max(1) {
            let incoming = incoming.clone();
            let spawned = std::thread::Builder::new().name(format!("argon2-{index}")).spawn(move || work(&incoming));
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a password hashing thread");
            }
        }
        Self { jobs }
    }

    /// Refuses, at `refuse_at` (at once without one), a check that would find the queue full now,
    /// before the caller spends anything on it.
    pub async fn admit(&self, refuse_at: Option<Instant>) -> Result<(), Refusal> {
        if self.jobs.is_full() {
            return Err(refuse(refuse_at).await);
        }
        Ok(())
    }

    /// Runs `check` on a worker. A check no worker has taken by `refuse_at` is dropped and refused
    /// at that moment; a full queue refuses at that moment too (at once without a deadline). A check
    /// that has started always runs to the end.
    pub async fn run<T: Send + 'static>(
        &self,
        refuse_at: Option<Instant>,
        check: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, Refusal> {
        let state = Arc::new(AtomicU8::new(QUEUED));
        let (answer, mut answered) = oneshot::channel();
        let job_state = Arc::clone(&state);
        let job: Job = Box::new(move |memory| {
            if job_state.compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                let _ = answer.send(check(memory));
            }
        });
        if self.jobs.try_send(job).is_err() {
            return Err(refuse(refuse_at).await);
        }
        if let Some(at) = refuse_at {
            if let Ok(result) = tokio::time::timeout_at(at, &mut answered).await {
                return result.map_err(|_| Refusal::Lost);
            }
            if state.compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return Err(Refusal::Busy);
            }
        }
        answered.await.map_err(|_| Refusal::Lost)
    }
}

/// A refusal given when the check's wait would have ended, not at once, so that clients retrying
/// immediately cannot turn refusals into a flood.
async fn refuse(refuse_at: Option<Instant>) -> Refusal {
    if let Some(at) = refuse_at {
        tokio::time::sleep_until(at).await;
    }
    Refusal::Busy
}

/// A worker's loop: the next check at once while there are any, memory freed after [`LINGER`]
/// without one, and an end when every sender is gone.
fn work(incoming: &flume::Receiver<Job>) {
    let mut memory = HashMemory::default();
    loop {
        let job = match incoming.recv_timeout(LINGER) {
            Ok(job) => job,
            Err(flume::RecvTimeoutError::Timeout) => {
                memory = HashMemory::default();
                give_free_heap_back();
                match incoming.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            }
            Err(flume::RecvTimeoutError::Disconnected) => return,
        };
        if catch_unwind(AssertUnwindSafe(|| job(&mut memory))).is_err() {
            memory = HashMemory::default();
        }
    }
}

/// Returns the free pages inside the C heap to the OS. Logins leave the heap fragmented (request
/// and database buffers of many connections), and glibc gives back only its free top on its own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_free_heap_back() {
    // SAFETY: malloc_trim only releases memory the allocator holds as free; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_free_heap_back() {}

/// Asks Linux to back the (not yet touched) capacity of `blocks` with 2 MiB pages where it is aligned.
#[cfg(target_os = "linux")]
fn advise_huge_pages(blocks: &Vec<Block>) {
    const HUGE_PAGE: usize = 2 << 20;
    let start = blocks.as_ptr() as usize;
    let end = start + blocks.capacity() * size_of::<Block>();
    let (first, last) = (start.next_multiple_of(HUGE_PAGE), end / HUGE_PAGE * HUGE_PAGE);
    if last > first {
        // SAFETY: [first, last) lies inside the vector's own allocation and is page-aligned; the
        // advice changes how the kernel backs those pages, never their contents or validity.
        unsafe {
            libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_blocks: &Vec<Block>) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_background<T: Send + 'static>(
        workers: &HashWorkers,
        check: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> tokio::task::JoinHandle<Result<T, Refusal>> {
        let workers = workers.clone();
        tokio::spawn(async move { workers.run(None, check).await })
    }

    #[test]
    fn memory_is_sized_on_use_and_reused_while_the_size_stays() {
        let mut memory = HashMemory::default();
        assert_eq!(memory.blocks(8).len(), 8);
        let address = memory.blocks(8).as_ptr();
        assert_eq!(memory.blocks(8).as_ptr(), address, "the same memory is reused");
        assert_eq!(memory.blocks(16).len(), 16, "another block count gets memory of that size");
    }

    #[tokio::test]
    async fn checks_run_on_the_workers_and_a_worker_reuses_its_memory() {
        let workers = HashWorkers::new(1, 4);
        let first = workers.run(None, |memory| memory.blocks(8).as_ptr() as usize).await;
        let second = workers.run(None, |memory| memory.blocks(8).as_ptr() as usize).await;
        assert_eq!(first, second);
        let name = workers.run(None, |_| std::thread::current().name().map(str::to_owned)).await;
        assert_eq!(name, Ok(Some("argon2-0".to_owned())));
    }

    #[tokio::test]
    async fn a_panicking_check_is_lost_and_the_worker_goes_on() {
        let workers = HashWorkers::new(1, 4);
        assert_eq!(workers.run(None, |_| -> u8 { panic!("boom") }).await, Err(Refusal::Lost));
        assert_eq!(workers.run(None, |_| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_check_not_started_by_its_deadline_is_refused_then_and_never_runs() {
        let workers = HashWorkers::new(1, 4);
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let blocker = in_background(&workers, move |_| hold.recv().is_ok());
        tokio::time::sleep(Duration::from_millis(20)).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ran_in_check = Arc::clone(&ran);
        let started = Instant::now();
        let deadline = started + Duration::from_millis(50);
        let late = workers.run(Some(deadline), move |_| ran_in_check.store(true, Ordering::SeqCst));
        assert_eq!(late.await, Err(Refusal::Busy));
        assert!(started.elapsed() >= Duration::from_millis(50));
        release.send(()).expect("release");
        assert_eq!(blocker.await.expect("task"), Ok(true));
        assert_eq!(workers.run(None, |_| 1).await, Ok(1), "the worker skipped the abandoned check");
        assert!(!ran.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_when_the_deadline_comes() {
        let workers = HashWorkers::new(1, 1);
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let blocker = in_background(&workers, move |_| hold.recv().is_ok());
        tokio::time::sleep(Duration::from_millis(20)).await;
        let queued = in_background(&workers, |_| 2);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        assert_eq!(workers.run(Some(started + Duration::from_millis(30)), |_| 3).await, Err(Refusal::Busy));
        assert!(started.elapsed() >= Duration::from_millis(30), "paced, not at once");
        assert_eq!(workers.run(None, |_| 3).await, Err(Refusal::Busy), "without a deadline, at once");
        release.send(()).expect("release");
        assert_eq!(blocker.await.expect("task"), Ok(true));
        assert_eq!(queued.await.expect("task"), Ok(2));
    }
}
