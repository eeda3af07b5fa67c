//! The readers on real databases from tests/data, whose names lie about their
//! compression: chaotic-aur.db.tar.xz is zstd, 2019's core.db is gzip.

use std::path::PathBuf;

use rast_pkgindex::pacdb::{read_local, read_sync, sniff, Compression};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data")
}

#[test]
fn misnamed_databases_are_sniffed() {
    let aur = data().join("arch-2022/chaotic-aur.db.tar.xz");
    assert_eq!(sniff(&std::fs::read(&aur).unwrap()[..8]), Compression::Zstd);
    let pkgs = read_sync(&aur).unwrap();
    assert_eq!(pkgs.len(), 3392);
    assert!(pkgs
        .iter()
        .all(|p| p.repo == "chaotic-aur" && !p.name.is_empty() && !p.version.is_empty()));
    let core19 = read_sync(&data().join("arch-2019/sync/core.db")).unwrap();
    assert_eq!(core19.len(), 231);
    let sizes: Vec<usize> = ["core", "extra", "multilib"]
        .iter()
        .map(|r| {
            read_sync(&data().join(format!("arch-2022/{r}.db.tar.gz")))
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, vec![261, 3029, 278]);
}

#[test]
fn local_database_has_install_reasons() {
    let local = read_local(&data().join("arch-2019/local")).unwrap();
    assert_eq!(local.len(), 132);
    let by = |n: &str| local.iter().find(|p| p.name == n).unwrap().clone();
    assert!(
        !by("acl").explicit,
        "acl was installed as a dependency (%REASON% 1)"
    );
    assert!(by("autoconf").explicit, "no %REASON%: installed explicitly");
}
