//! pacman desc parser: any bytes, no panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = rast_pkgindex::desc::parse(data);
});
