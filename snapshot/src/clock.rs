//! Wall-clock time as rast records it: whole seconds since the Unix epoch (0 if the
//! clock is before 1970). A leaf module: metadata and the bootloader both stamp with it.

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
