//! What Debian says about the same software in more words: the AppStream summary and
//! description (upstream's prose, for programs that ship metainfo) or else Debian's long
//! description, the AppStream keywords and the file types a program opens ("Opens mkv,
//! webm files.") — the words users search with that a one-line Arch description leaves out.
//!
//! The table is `data/upstream-words.tsv`, built by `scripts/build-descriptions` from
//! Debian bookworm's Translation-en, DEP-11 components and shared-mime-info, matched to
//! Arch packages by name, source package or homepage (the script's doc says how). It is
//! data compiled in; rast never reads Debian at run time. Invariants: a package is
//! looked up by its exact name first, then by its homepage only when exactly one row
//! has that homepage **and** no other package being indexed has it ([`Homepages`]): a
//! renamed package still finds its words, and a shared homepage never lends one
//! package's words to another — kernel.org is keyutils' only row but also six kernel
//! packages' homepage; thunderbird's is also its 64 language packs'.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

static TSV: &str = include_str!("../data/upstream-words.tsv");

struct Table {
    by_name: HashMap<&'static str, &'static str>,
    /// Homepage → words, only for homepages that exactly one row has.
    by_home: HashMap<&'static str, &'static str>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut by_name = HashMap::new();
        let mut homes: HashMap<&str, Vec<&str>> = HashMap::new();
        for line in TSV.lines().filter(|l| !l.starts_with('#')) {
            let mut cols = line.splitn(4, '\t');
            let (Some(name), Some(_debian), Some(home), Some(words)) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            by_name.insert(name, words);
            if !home.is_empty() {
                homes.entry(home).or_default().push(words);
            }
        }
        let by_home = homes
            .into_iter()
            .filter(|(_, w)| w.len() == 1)
            .map(|(h, w)| (h, w[0]))
            .collect();
        Table { by_name, by_home }
    })
}

/// The homepage as the table keys it: no scheme, `www.`, `/index.html`, `.git` or
/// trailing `/`, lowercase.
fn norm_url(url: &str) -> String {
    let mut u = url.trim().to_lowercase();
    if let Some(i) = u.find("://") {
        u.drain(..i + 3);
    }
    if let Some(rest) = u.strip_prefix("www.") {
        u = rest.to_string();
    }
    for suffix in ["/index.html", "/index.htm", "/index.php"] {
        if let Some(rest) = u.strip_suffix(suffix) {
            u = rest.to_string();
        }
    }
    let u = u.trim_end_matches('/');
    u.strip_suffix(".git").unwrap_or(u).to_string()
}

/// The homepages that two or more of the packages being indexed share: none of them
/// may borrow a row's words by homepage.
#[derive(Debug, Default)]
pub struct Homepages {
    shared: HashSet<String>,
}

impl Homepages {
    /// From the homepage of every package being indexed (one entry per package).
    pub fn of<'a>(urls: impl IntoIterator<Item = &'a str>) -> Homepages {
        let mut seen = HashSet::new();
        let mut shared = HashSet::new();
        for u in urls {
            let home = norm_url(u);
            if !home.is_empty() && !seen.insert(home.clone()) {
                shared.insert(home);
            }
        }
        Homepages { shared }
    }
}

/// The upstream words for the package `name` with homepage `url`, if the table has any:
/// by name, else by a homepage that one row and none of the other indexed packages
/// (`homes`) has.
pub fn words(name: &str, url: &str, homes: &Homepages) -> Option<&'static str> {
    let t = table();
    t.by_name.get(name).copied().or_else(|| {
        let home = norm_url(url);
        (!home.is_empty() && !homes.shared.contains(&home))
            .then(|| t.by_home.get(home.as_str()).copied())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_first_then_a_homepage_only_one_row_has() {
        let none = Homepages::default();
        let mkv = words("mkvtoolnix-cli", "", &none).expect("mkvtoolnix-cli is in the table");
        assert!(mkv.contains("Matroska"));
        // A renamed package with the same homepage finds the same words...
        let sensors = words("lm_sensors", "", &none).unwrap();
        let renamed = "https://hwmon.wiki.kernel.org/lm_sensors/";
        assert_eq!(words("lm-sensors-git", renamed, &none), Some(sensors));
        // ...unless two rows share the homepage (cli and gui here): nothing is lent.
        let mkv_home = "https://mkvtoolnix.download/";
        assert_eq!(words("mkvtoolnix-ng", mkv_home, &none), None);
        assert_eq!(words("no-such-package", "", &none), None);
        assert_eq!(
            words("no-such-package", "https://example.invalid/", &none),
            None
        );
    }

    #[test]
    fn a_homepage_other_indexed_packages_share_lends_nothing() {
        // keyutils is the only row whose homepage is kernel.org, but linux-lts (no row
        // of its own) shares that homepage with the other kernels: keyutils' words
        // must not describe a kernel.
        let keyutils = words("keyutils", "", &Homepages::default()).unwrap();
        let home = "https://www.kernel.org/";
        let alone = Homepages::of([home]);
        assert_eq!(words("linux-lts", home, &alone), Some(keyutils));
        let kernels = Homepages::of([home, "https://kernel.org", "https://example.org/"]);
        assert_eq!(words("linux-lts", home, &kernels), None);
        // Lookups by name are not affected.
        assert_eq!(words("keyutils", home, &kernels), Some(keyutils));
    }

    #[test]
    fn homepages_are_compared_without_their_decorations() {
        assert_eq!(
            norm_url("https://www.Example.org/index.html"),
            "example.org"
        );
        assert_eq!(
            norm_url("http://git.example.org/x.git/"),
            "git.example.org/x"
        );
        assert_eq!(norm_url(""), "");
    }

    #[test]
    fn every_row_has_four_columns() {
        for line in TSV.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(line.split('\t').count(), 4, "{line}");
        }
    }
}
