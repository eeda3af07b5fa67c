//! Secret redaction: any text, no panic, line count preserved.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let out = rast_pkgindex::secrets::redact(&text);
    assert_eq!(out.lines().count(), text.lines().count());
});
