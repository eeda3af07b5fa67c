//! The Arch package, built and installed as a user would (packaging/arch/check-package):
//! makepkg from a clean clone as a mapped unprivileged user, pacman into a scratch root,
//! then the file list, `rast --version`, `man -l`, and `bash -n` / `zsh -n` / `fish -n`
//! of the completions. A release build from nothing is ~15 minutes on 2 cores, so this is
//! ignored in the parallel suite (it would hold both cores while the other tests run);
//! CI runs the same script once after the suite (`make package-check` in `.ci/run`), and
//! `make test-slow` runs this test, reusing `$CARGO_TARGET_DIR/package-build`.

use std::process::Command;

#[test]
#[ignore = "a release build (~15 min from nothing): make test-slow"]
fn the_package_builds_installs_and_works() {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/arch/check-package");
    let work = tempfile::Builder::new()
        .prefix("rast-package-")
        .tempdir()
        .unwrap();
    let out = Command::new(&script).arg(work.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in ["man -l rast.8: ok", "bash -n: ok", "check-package: ok"] {
        assert!(text.contains(line), "{line:?} missing:\n{text}");
    }
    assert!(text.contains("installed: rast "), "{text}");
}
