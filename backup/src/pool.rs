//! Reused byte buffers. A buffer taken from the pool keeps the capacity (and the
//! faulted-in pages) it had when it was given back, so a pipeline that cycles a few
//! buffers through its stages neither allocates nor zeroes memory per chunk or block —
//! at restore, fresh 16 MiB buffers per chunk cost as much CPU as decompressing them.
//!
//! The pool holds at most what was given back: its size is bounded by the number of
//! buffers the caller keeps in flight.

use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct Pool(Mutex<Vec<Vec<u8>>>);

impl Pool {
    /// An empty buffer, with the capacity of one given back earlier if there is one.
    pub(crate) fn take(&self) -> Vec<u8> {
        let mut v = self
            .0
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        v.clear();
        v
    }

    pub(crate) fn give(&self, v: Vec<u8>) {
        if let Ok(mut p) = self.0.lock() {
            p.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_with_their_capacity() {
        let p = Pool::default();
        assert_eq!(p.take().capacity(), 0);
        let mut v = Vec::with_capacity(1 << 20);
        v.extend_from_slice(b"old");
        let ptr = v.as_ptr();
        p.give(v);
        let again = p.take();
        assert!(again.is_empty());
        assert_eq!(again.capacity(), 1 << 20);
        assert_eq!(again.as_ptr(), ptr, "the same allocation");
        assert_eq!(p.take().capacity(), 0, "the pool gives each buffer once");
    }
}
