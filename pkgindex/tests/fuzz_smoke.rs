//! A short fuzzing smoke run for CI (the real fuzzers are cargo-fuzz targets in
//! pkgindex/fuzz, which need a sanitizer toolchain): the same target bodies on
//! thousands of deterministic mutations of real inputs — bit flips, truncations,
//! duplicated and deleted spans. Any panic fails the test.

use rast_pkgindex::{desc, pacdb, secrets};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if v.is_empty() {
            v.push(rng.next() as u8);
            continue;
        }
        match rng.below(5) {
            0 => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(rng.below(v.len())),
            2 => {
                let (a, b) = (rng.below(v.len()), rng.below(v.len()));
                let (a, b) = (a.min(b), a.max(b).min(a + 64));
                let span = v[a..b].to_vec();
                let at = rng.below(v.len());
                v.splice(at..at, span);
            }
            3 => {
                let a = rng.below(v.len());
                let b = (a + rng.below(32)).min(v.len());
                v.drain(a..b);
            }
            _ => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
        }
    }
    v
}

fn seed_db() -> Vec<u8> {
    // A real (small) sync database: the 2019 multilib-testing one.
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/arch-2019/sync/multilib-testing.db"
    ))
    .unwrap()
}

#[test]
fn parsers_survive_mutated_inputs() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let desc_seed =
        b"%NAME%\nacl\n\n%VERSION%\n2.3.1-2\n\n%DEPENDS%\nattr\nlibattr.so\n\n%REASON%\n1\n\n"
            .to_vec();
    for _ in 0..20_000 {
        let _ = desc::parse(&mutate(&mut rng, &desc_seed));
    }
    let db = seed_db();
    // Mutating the gzip stream and the tar inside it.
    for _ in 0..600 {
        let _ = pacdb::read_sync_bytes(&mutate(&mut rng, &db), "fuzz");
    }
    let conf =
        b"[server]\npassword = hunter2\n# token: x\nPasswordAuthentication no\nkey value\n\xff\xfe"
            .to_vec();
    for _ in 0..20_000 {
        let m = mutate(&mut rng, &conf);
        let text = String::from_utf8_lossy(&m);
        assert_eq!(secrets::redact(&text).lines().count(), text.lines().count());
    }
}
