//! The threads that run Argon2: a fixed set, one per allowed concurrent hash, each reusing one
//! block of Argon2 memory. A flood of log-ins then costs as much memory as one hash per thread,
//! for good: tokio's blocking pool would grow a thread per concurrent hash, and the allocator
//! arenas of those threads keep the freed 19 MiB blocks long after the flood.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::Block;

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

    /// Runs `work` on `count` blocks, then wipes them: what stays in memory between hashes
    /// holds nothing derived from a password.
    pub(super) fn with_blocks<T>(
        &mut self,
        count: usize,
        work: impl FnOnce(&mut [Block]) -> T,
    ) -> T {
        if count > self.keep {
            let mut once = vec![Block::default(); count];
            return work(&mut once);
        }
        if self.blocks.len() < count {
            self.blocks.resize(count, Block::default());
        }
        let blocks = &mut self.blocks[..count];
        let output = work(blocks);
        blocks.fill(Block::default());
        output
    }
}

/// The hashing threads. They stop when the last handle is dropped.
pub(super) struct Workers {
    jobs: Sender<Job>,
}

impl Workers {
    /// Starts `threads` threads whose memory holds up to `keep_blocks` Argon2 blocks each
    /// (allocated at the first hash).
    pub(super) fn start(threads: usize, keep_blocks: usize) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("sigra-hash-{index}"))
                .spawn(move || {
                    let mut memory = Memory::new(keep_blocks);
                    loop {
                        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(job) = next else { return };
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
}
