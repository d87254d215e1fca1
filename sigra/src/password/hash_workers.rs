//! The threads that run Argon2: a fixed set, one per allowed concurrent hash. A busy thread
//! reuses one block of Argon2 memory between hashes, and a thread left idle for
//! [`IDLE_RELEASE`] gives it back to the operating system. A flood of log-ins then costs one
//! hash's memory per thread while it lasts, and nothing once it is over: tokio's blocking pool
//! would grow a thread per concurrent hash, and the allocator arenas of those threads keep the
//! freed 19 MiB blocks long after the flood.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use argon2::Block;
use flume::{RecvTimeoutError, Sender};

/// How long a hashing thread without work keeps its Argon2 memory.
pub(super) const IDLE_RELEASE: Duration = Duration::from_secs(2);

/// The fewest blocks an Argon2 buffer reserves: just over 32 MiB, glibc's largest dynamic mmap
/// threshold on 64-bit, so its malloc always maps the buffer on its own and unmaps it when it
/// is freed. A 19 MiB buffer, once one of its size has been freed, is carved from a thread
/// arena instead, which keeps the memory after the buffer is dropped (measured: the resident
/// size did not move). Only the blocks a hash uses are touched, so the rest of the reservation
/// is address space, not memory. (jemalloc, this project's server allocator, serves anything over
/// 8 MiB from an arena of its own that returns freed memory promptly; there the reservation
/// changes nothing.)
const SEPARATELY_MAPPED_BLOCKS: usize = (32 << 20) / std::mem::size_of::<Block>() + 1;

/// Work for a hashing thread: it borrows the thread's Argon2 memory.
pub(super) type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// A hashing thread's Argon2 memory, kept between hashes.
pub(super) struct Memory {
    blocks: Vec<Block>,
    /// The most blocks kept: the configured parameters' need. A stored hash made with more
    /// memory (older parameters) gets a buffer of its own for that one verification.
    keep: usize,
}

impl Memory {
    fn new(keep: usize) -> Self {
        Self {
            blocks: Vec::new(),
            keep,
        }
    }

    /// Memory that keeps nothing between uses (a one-off hash outside the threads).
    pub(super) fn unkept() -> Self {
        Self::new(0)
    }

    /// Runs `work` on `count` blocks, then wipes them: what stays in memory between hashes,
    /// or goes back to the allocator, holds nothing derived from a password.
    pub(super) fn with_blocks<T>(
        &mut self,
        count: usize,
        work: impl FnOnce(&mut [Block]) -> T,
    ) -> T {
        if count > self.keep {
            return wiped_after(&mut allocate(count), work);
        }
        if self.blocks.len() < count {
            self.blocks = allocate(count);
        }
        wiped_after(&mut self.blocks[..count], work)
    }

    fn holds_blocks(&self) -> bool {
        self.blocks.capacity() > 0
    }

    /// Gives the memory back (it was wiped after its last use).
    fn release(&mut self) {
        self.blocks = Vec::new();
    }
}

/// `count` zeroed blocks in a buffer the allocator maps on its own.
fn allocate(count: usize) -> Vec<Block> {
    let mut blocks = Vec::with_capacity(count.max(SEPARATELY_MAPPED_BLOCKS));
    blocks.resize(count, Block::default());
    blocks
}

fn wiped_after<T>(blocks: &mut [Block], work: impl FnOnce(&mut [Block]) -> T) -> T {
    let output = work(blocks);
    blocks.fill(Block::default());
    output
}

/// The hashing threads. They stop when the last handle is dropped.
pub(super) struct Workers {
    jobs: Sender<Job>,
}

impl Workers {
    /// Starts `threads` threads whose memory holds up to `keep_blocks` Argon2 blocks each
    /// (allocated at the first hash, given back after `idle_release` without work).
    pub(super) fn start(
        threads: usize,
        keep_blocks: usize,
        idle_release: Duration,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = flume::unbounded::<Job>();
        for index in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("sigra-hash-{index}"))
                .spawn(move || {
                    let mut memory = Memory::new(keep_blocks);
                    loop {
                        let next = if memory.holds_blocks() {
                            match queue.recv_timeout(idle_release) {
                                Err(RecvTimeoutError::Timeout) => {
                                    memory.release();
                                    continue;
                                }
                                next => next.ok(),
                            }
                        } else {
                            queue.recv().ok()
                        };
                        let Some(job) = next else { return };
                        // A job that panics loses its answer (its caller sees an error); the
                        // thread stays for the next one.
                        let _ = catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    /// Queues `job`; `false` when no thread is left to run it.
    pub(super) fn submit(&self, job: Job) -> bool {
        self.jobs.send(job).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a job on a hashing thread saw of the thread's memory: its capacity in blocks.
    fn kept_blocks(workers: &Workers, count: usize) -> usize {
        let (answer, answered) = std::sync::mpsc::channel();
        assert!(workers.submit(Box::new(move |memory: &mut Memory| {
            if count > 0 {
                memory.with_blocks(count, |_| ());
            }
            let _ = answer.send(memory.blocks.capacity());
        })));
        answered.recv().expect("an answer")
    }

    #[test]
    fn memory_is_reused_up_to_its_size_and_wiped_after_each_use() {
        let mut memory = Memory::new(8);
        memory.with_blocks(8, |blocks| blocks[3].as_mut()[0] = 7);
        let address = memory.blocks.as_ptr();
        memory.with_blocks(4, |blocks| {
            assert_eq!(blocks.len(), 4);
        });
        assert_eq!(memory.blocks.as_ptr(), address, "the same buffer");
        assert!(memory
            .blocks
            .iter()
            .all(|b| b.as_ref().iter().all(|word| *word == 0)));
        memory.with_blocks(32, |blocks| assert_eq!(blocks.len(), 32));
        assert_eq!(
            memory.blocks.len(),
            8,
            "a larger need is met once, not kept"
        );
    }

    #[test]
    fn kept_memory_is_large_enough_that_the_allocator_maps_it_on_its_own() {
        let mut memory = Memory::new(8);
        memory.with_blocks(8, |_| ());
        let reserved = memory.blocks.capacity() * std::mem::size_of::<Block>();
        assert!(
            reserved > 32 << 20,
            "{reserved} bytes would come from a thread arena that keeps them after release"
        );
    }

    #[test]
    fn a_hashing_thread_idle_for_the_release_time_gives_its_memory_back() {
        let workers = Workers::start(1, 8, Duration::from_millis(20)).expect("a thread");
        assert!(
            kept_blocks(&workers, 8) > 0,
            "memory kept right after a hash"
        );
        assert!(kept_blocks(&workers, 8) > 0, "and reused by the next");
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            kept_blocks(&workers, 0),
            0,
            "given back after the idle time"
        );
    }
}
