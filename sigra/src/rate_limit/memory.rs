use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::clock::Timestamp;
use crate::error::Result;
use crate::mail::BoxFuture;

use super::Counters;

/// Counters in this process's memory. Windows older than the current one are dropped as new
/// ones start, so memory stays bounded by the buckets active in one window.
#[derive(Debug, Default)]
pub struct MemoryCounters {
    windows: Mutex<HashMap<String, (i64, u64)>>,
}

impl Counters for MemoryCounters {
    fn hit<'a>(
        &'a self,
        bucket: &'a str,
        window_start: Timestamp,
        _window_end: Timestamp,
    ) -> BoxFuture<'a, Result<u64>> {
        let start = window_start.as_millis();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() > 100_000 {
            windows.retain(|_, (window, _)| *window >= start);
        }
        let entry = windows.entry(bucket.to_owned()).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        entry.1 += 1;
        let hits = entry.1;
        Box::pin(async move { Ok(hits) })
    }
}
