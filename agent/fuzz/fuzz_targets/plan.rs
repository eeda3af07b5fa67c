//! The planner: any UTF-8 request, no panic, always a valid plan naming only real
//! packages and never an unsafe command.
#![no_main]
use rast_agent::plan::resolve::Resolver;
use rast_agent::{Action, Planner};
use rast_pkgindex::catalog::{Catalog, Entry};

fn catalog() -> Catalog {
    let names = ["firefox", "gimp", "htop", "vim", "git", "python", "linux-lts", "rm", "sh"];
    Catalog::new(
        names
            .iter()
            .map(|n| Entry {
                name: n.to_string(),
                repo: "extra".into(),
                version: "1-1".into(),
                desc: String::new(),
                provides: vec![],
                installed: false,
            })
            .collect(),
    )
}

libfuzzer_sys::fuzz_target!(|req: &str| {
    let c = catalog();
    let p = Planner {
        resolver: Resolver {
            catalog: &c,
            semantic: None,
        },
    };
    let plan = p.plan(req);
    plan.validate().expect("valid plan");
    assert!(!plan.actions.is_empty());
    for a in &plan.actions {
        if let Action::Install { packages, .. } | Action::Remove { packages, .. } = a {
            assert!(packages.iter().all(|n| c.get(n).is_some()));
        }
    }
});
