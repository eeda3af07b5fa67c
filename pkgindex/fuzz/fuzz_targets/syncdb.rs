//! Sync database reader (compression sniffing + tar + desc): any bytes, no panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = rast_pkgindex::pacdb::read_sync_bytes(data, "fuzz");
});
