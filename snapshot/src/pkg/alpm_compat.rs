//! The one place that knows which libalpm rast is built against.
//!
//! Feature `alpm13` uses the `alpm` crate 2.2.3 (libalpm 13: Debian/Ubuntu, CI);
//! feature `alpm16` uses `alpm` 5.0.2 (libalpm 16: current Arch). Everything else in
//! rast writes `use crate::pkg::alpm_compat::alpm` and calls methods both versions
//! share; the differences are absorbed here:
//! - `trans_prepare` returns `(PrepareResult, Error)` in 2.2.3 and `PrepareError` in 5.x;
//! - conflicts name their packages by `&str` in 2.2.3 and by `&Package` in 5.x;
//! - `File::name()` returns `&str` in 2.2.3 and bytes in 5.x.

#[cfg(all(feature = "alpm13", feature = "alpm16"))]
compile_error!("features alpm13 and alpm16 are exclusive: build with --no-default-features --features alpm16 for libalpm 16");
#[cfg(not(any(feature = "alpm13", feature = "alpm16")))]
compile_error!("enable one of the features alpm13 (libalpm 13) or alpm16 (libalpm 16)");

#[cfg(feature = "alpm13")]
pub use alpm13 as alpm;
#[cfg(all(feature = "alpm16", not(feature = "alpm13")))]
pub use alpm16 as alpm;

/// Prepares the current transaction; on failure returns pacman-style problem lines.
#[cfg(feature = "alpm13")]
pub fn prepare(h: &mut alpm::Alpm) -> Result<(), Vec<String>> {
    use alpm::PrepareResult;
    h.trans_prepare().map_err(|(data, err)| {
        let mut out: Vec<String> = match data {
            PrepareResult::UnsatisfiedDeps(list) => list
                .iter()
                .map(|m| {
                    format!(
                        "unable to satisfy dependency '{}' required by {}",
                        m.depend(),
                        m.target()
                    )
                })
                .collect(),
            PrepareResult::ConflictingDeps(list) => list
                .iter()
                .map(|c| {
                    format!(
                        "{} and {} are in conflict ({})",
                        c.package1(),
                        c.package2(),
                        c.reason()
                    )
                })
                .collect(),
            PrepareResult::PkgInvalidArch(list) => list
                .iter()
                .map(|p| format!("package {} does not have a valid architecture", p.name()))
                .collect(),
            PrepareResult::Ok => Vec::new(),
        };
        if out.is_empty() {
            out.push(err.to_string());
        }
        out
    })
}

#[cfg(all(feature = "alpm16", not(feature = "alpm13")))]
pub fn prepare(h: &mut alpm::Alpm) -> Result<(), Vec<String>> {
    use alpm::PrepareData;
    h.trans_prepare().map_err(|e| {
        let mut out: Vec<String> = match e.data() {
            Some(PrepareData::UnsatisfiedDeps(list)) => list
                .iter()
                .map(|m| {
                    format!(
                        "unable to satisfy dependency '{}' required by {}",
                        m.depend(),
                        m.target()
                    )
                })
                .collect(),
            Some(PrepareData::ConflictingDeps(list)) => list
                .iter()
                .map(|c| {
                    format!(
                        "{} and {} are in conflict ({})",
                        c.package1().name(),
                        c.package2().name(),
                        c.reason()
                    )
                })
                .collect(),
            Some(PrepareData::PkgInvalidArch(list)) => list
                .iter()
                .map(|p| format!("package {} does not have a valid architecture", p.name()))
                .collect(),
            None => Vec::new(),
        };
        if out.is_empty() {
            out.push(e.error().to_string());
        }
        out
    })
}

/// A file entry's path as text.
#[cfg(feature = "alpm13")]
pub fn file_name(f: &alpm::File) -> String {
    f.name().to_string()
}

#[cfg(all(feature = "alpm16", not(feature = "alpm13")))]
pub fn file_name(f: &alpm::File) -> String {
    String::from_utf8_lossy(f.name()).into_owned()
}
