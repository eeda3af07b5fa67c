//! Command-line grammar: astOS's command names, aliases and positional arguments,
//! with AshOS-style `-s/--snap N` accepted wherever a snapshot is named.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rast_snapshot::SnapId;

fn parse_id(s: &str) -> Result<SnapId, String> {
    s.parse().map_err(|e: rast_snapshot::Error| e.to_string())
}

#[derive(Parser, Debug)]
#[command(
    name = "rast",
    version,
    about = "Manage rastOS: an immutable Arch Linux whose root is a tree of read-only btrfs snapshots",
    long_about = "rast manages a tree of read-only btrfs snapshots the way astOS's `ast` does: \
clone, branch, chroot into and run commands in snapshots as transactions that commit only \
when they succeed. Snapshot 0 is the base; the current snapshot is marked with * in `rast tree`.",
    after_help = "Examples:\n  rast tree                       show the snapshot tree\n  rast clone 0                    copy snapshot 0 into a new tree\n  rast run 1 -- sh -c 'echo hi > /etc/motd'\n                                  change snapshot 1; kept only if the command exits 0\n  rast del 3 --yes                delete snapshot 3 and its descendants\n\nDocs: docs/tree.md, docs/transactions.md, docs/init.md"
)]
pub struct Cli {
    /// Top level (subvolid=5) of the rastOS btrfs filesystem, or a running rastOS root.
    #[arg(
        long,
        global = true,
        env = "RAST_ROOT",
        default_value = "/",
        value_name = "DIR"
    )]
    pub root: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Answer yes to every question (needed to delete without a terminal).
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// For a plain-words request: show the plan, do nothing (`rast --dry-run "…"`).
    #[arg(long)]
    pub dry_run: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Command {
    /// Whether the command can change what the search index is built from: packages,
    /// /etc, or which snapshot is current (rast then asks a running agent to refresh).
    pub fn changes_system(&self) -> bool {
        matches!(
            self,
            Command::Install { .. }
                | Command::Remove { .. }
                | Command::TreeRmpkg(_)
                | Command::Upgrade { .. }
                | Command::TreeUpgrade(_)
                | Command::BaseUpdate
                | Command::Refresh(_)
                | Command::Sync { .. }
                | Command::ForceSync { .. }
                | Command::AutoUpgrade
                | Command::SelfUpdate { .. }
                | Command::Deploy { .. }
                | Command::Rollback { .. }
                | Command::EtcUpdate
                | Command::Pkg(_)
                | Command::Chroot(_)
                | Command::Run { .. }
                | Command::TreeRun { .. }
                | Command::LiveChroot { .. }
                | Command::EditConf(_)
                | Command::Config(ConfigCommand::Restore { .. })
                | Command::Request(_)
        )
    }
}

/// A snapshot named positionally (`rast clone 3`) or AshOS-style (`rast clone -s 3`).
#[derive(Args, Debug)]
pub struct Snap {
    /// Snapshot id.
    #[arg(value_name = "N", value_parser = parse_id, required_unless_present = "snap")]
    pub id: Option<SnapId>,
    /// Snapshot id (AshOS style).
    #[arg(short = 's', long = "snap", value_name = "N", value_parser = parse_id, conflicts_with = "id")]
    pub snap: Option<SnapId>,
}

impl Snap {
    pub fn get(&self) -> SnapId {
        self.id.or(self.snap).expect("clap requires one of them")
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Install rastOS: onto a disk (--partition, --disk, [--esp]), or the layout on a
    /// mounted btrfs top level (--root); bootstraps snapshot 0 with pacman.
    #[command(
        after_help = "Examples:\n  rast init --partition /dev/sda2 --disk /dev/sda base linux grub\n                          BIOS: GRUB's boot code on the drive\n  rast init --partition /dev/nvme0n1p2 --disk /dev/nvme0n1 --esp /dev/nvme0n1p1 base linux systemd\n                          UEFI: systemd-boot on the ESP\n  rast --root /mnt init   layout on a mounted top level, no bootloader\n\nThe partition must be btrfs (mkfs.btrfs), the ESP FAT (mkfs.fat -F 32); nothing\noutside them and the drive's boot code area is written. Docs: docs/init.md"
    )]
    Init {
        /// pacman configuration naming the repositories to install from.
        #[arg(long, value_name = "FILE", default_value = "/etc/pacman.conf")]
        pacman_conf: PathBuf,
        /// pacman keyring directory (the host's, as pacstrap uses).
        #[arg(long, value_name = "DIR", default_value = "/etc/pacman.d/gnupg")]
        gpgdir: PathBuf,
        /// The btrfs partition to install onto (formatted, not mounted).
        #[arg(long, value_name = "PARTITION", requires = "disk")]
        partition: Option<PathBuf>,
        /// The drive that holds the partition (BIOS: GRUB's boot code goes here).
        #[arg(long, value_name = "DRIVE", requires = "partition")]
        disk: Option<PathBuf>,
        /// An EFI system partition (FAT) on the drive: boot with UEFI.
        #[arg(long, value_name = "ESP", requires = "partition")]
        esp: Option<PathBuf>,
        /// Bootloader [default: systemd-boot with --esp, grub with --disk, else none].
        #[arg(long, value_name = "grub|systemd-boot|none")]
        bootloader: Option<String>,
        /// Packages for snapshot 0 [default: base linux linux-firmware btrfs-progs].
        #[arg(value_name = "PKG")]
        packages: Vec<String>,
    },
    /// Show the snapshot tree (current snapshot marked with *).
    Tree,
    /// Install packages into N (a transaction; also live if N is running).
    #[command(visible_alias = "in")]
    Install {
        /// Do not also install into the running system.
        #[arg(long)]
        not_live: bool,
        #[command(flatten)]
        t: SnapPkgs,
    },
    /// Remove packages from N.
    Remove {
        #[arg(long)]
        not_live: bool,
        #[command(flatten)]
        t: SnapPkgs,
    },
    /// Remove packages from N and every descendant that has them.
    #[command(name = "tree-rmpkg", visible_alias = "tremove")]
    TreeRmpkg(SnapPkgs),
    /// Refresh and fully upgrade N (`--security`: only packages with a fixed advisory).
    #[command(visible_alias = "up")]
    Upgrade {
        #[command(flatten)]
        snap: Snap,
        #[command(flatten)]
        sec: Security,
    },
    /// Upgrade N and every descendant.
    #[command(name = "tree-upgrade", visible_alias = "tupgrade")]
    TreeUpgrade(Snap),
    /// Upgrade the base snapshot 0 (the only way to change it).
    #[command(name = "base-update", visible_alias = "bu")]
    BaseUpdate,
    /// Refresh N's package databases (pacman -Syy); upgrade before installing.
    #[command(visible_alias = "ref")]
    Refresh(Snap),
    /// Update N and its descendants (a full upgrade each), then propagate N's packages
    /// into its descendants — astOS's `sync` (each child keeps its extras).
    #[command(
        visible_alias = "tree-sync",
        after_help = "astOS meaning: sync updates, then syncs; force-sync syncs without updating.\n--reinstall (either command) reinstalls every parent package in each child,\nrepairing changed files. Docs: docs/packages.md"
    )]
    Sync {
        /// Do not replay the change on the running system.
        #[arg(long)]
        not_live: bool,
        /// Reinstall every package of the parent, not only missing or different ones.
        #[arg(long)]
        reinstall: bool,
        #[command(flatten)]
        snap: Snap,
    },
    /// Propagate N's packages into its descendants without updating — astOS's `force-sync`.
    #[command(name = "force-sync", visible_alias = "fsync")]
    ForceSync {
        /// Do not replay the change on the running system.
        #[arg(long)]
        not_live: bool,
        /// Reinstall every package of the parent, not only missing or different ones.
        #[arg(long)]
        reinstall: bool,
        #[command(flatten)]
        snap: Snap,
    },
    /// Packages added, removed and changed from A to B (`--files`: files too).
    Diff {
        #[arg(value_name = "A", value_parser = parse_id)]
        from: SnapId,
        #[arg(value_name = "B", value_parser = parse_id)]
        to: SnapId,
        /// Also list files added, removed and modified.
        #[arg(long)]
        files: bool,
    },
    /// Upgrade the rast package itself, in a new branch of N (default: the current
    /// snapshot), from N's sync databases as they are; then offers to deploy it.
    #[command(name = "self-update")]
    SelfUpdate {
        #[arg(value_name = "N", value_parser = parse_id)]
        snap: Option<SnapId>,
    },
    /// Upgrade the current snapshot unattended and record the result (see `check`).
    #[command(name = "auto-upgrade")]
    AutoUpgrade,
    /// Show the result of the last auto-upgrade (exit 1 if it failed).
    Check,
    /// Deploy N: it boots next (A/B slots; the previous deployment stays bootable).
    Deploy {
        #[command(flatten)]
        snap: Snap,
        /// [default: what the last deployment used, else what init installed]
        #[arg(long, value_name = "grub|systemd-boot|none")]
        bootloader: Option<String>,
        /// Where the EFI system partition is mounted (systemd-boot on an offline root).
        #[arg(long, value_name = "DIR")]
        esp: Option<PathBuf>,
    },
    /// Clone the previously deployed snapshot and deploy the clone.
    Rollback {
        /// [default: what the deployment being reverted used]
        #[arg(long, value_name = "grub|systemd-boot|none")]
        bootloader: Option<String>,
        #[arg(long, value_name = "DIR")]
        esp: Option<PathBuf>,
    },
    /// Confirm that this deployment booted (run by rast-boot-confirm.service); finds a
    /// deployment that failed to boot.
    #[command(name = "boot-confirm")]
    BootConfirm,
    /// Save the running system's /etc into the current snapshot.
    #[command(name = "etc-update")]
    EtcUpdate,
    /// Rerun the bootloader step in N (and in its slot if N is deployed).
    #[command(name = "boot-update")]
    BootUpdate {
        #[command(flatten)]
        snap: Snap,
        #[arg(long, value_name = "grub|systemd-boot|none")]
        bootloader: Option<String>,
    },
    /// Package tools: conflict checks, upgrade previews, orphans, keys, info, search.
    #[command(subcommand)]
    Pkg(PkgCommand),
    /// Build or inspect the search index of packages and /etc.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Search packages and /etc by meaning and keywords ("program to read pdf documents").
    Search(SearchArgs),
    /// Encrypted incremental backups of snapshots (btrfs send → zstd → age → store).
    #[command(subcommand)]
    Backup(BackupCommand),
    /// rast-agent: the daemon that keeps the planner warm, refreshes the index and
    /// runs the backup schedule (see docs/agent.md).
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Configuration tools: `rast config search QUERY` searches /etc only.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Turn a request in plain words into a typed plan and print it (runs nothing).
    Plan {
        #[command(flatten)]
        loc: IndexLoc,
        /// The request, e.g. "clone snapshot 2 and install htop in it".
        #[arg(value_name = "REQUEST", required = true, num_args = 1..)]
        request: Vec<String>,
    },
    /// Any other words are a request: `rast "install the latest firefox"` shows the plan,
    /// asks, then runs it (see docs/natural-language.md).
    #[command(external_subcommand)]
    Request(Vec<String>),
    /// Print a shell completion script, generated from this grammar:
    /// `rast completions bash > /usr/share/bash-completion/completions/rast`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages — rast(8), rast-COMMAND(8) for each command, rast-agent(8) —
    /// into DIR, generated from this grammar.
    Manpages {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Show the current snapshot.
    #[command(visible_alias = "c")]
    Current,
    /// Show the tree, current and deployed snapshots, leftovers and the lock.
    Status,
    /// Set a snapshot's description: `rast desc N TEXT…` or `rast desc -s N TEXT…`.
    #[command(visible_alias = "description")]
    Desc {
        #[arg(short = 's', long = "snap", value_name = "N", value_parser = parse_id)]
        snap: Option<SnapId>,
        /// N followed by the text (or only the text with -s).
        #[arg(value_name = "N TEXT", required = true, num_args = 1..)]
        args: Vec<String>,
    },
    /// Create a new tree from the base snapshot.
    #[command(name = "new", visible_alias = "new-tree")]
    New {
        /// Description of the new snapshot.
        #[arg(value_name = "DESC", num_args = 0..)]
        desc: Vec<String>,
    },
    /// Add a copy of N as a child of N.
    #[command(visible_alias = "add-branch")]
    Branch(Snap),
    /// Copy N into a new tree (top level).
    Clone(Snap),
    /// Copy N beside it (a child of N's parent).
    #[command(name = "cbranch", visible_alias = "clone-branch")]
    CloneBranch(Snap),
    /// Copy N as a child of PARENT: `rast ubranch PARENT N`.
    #[command(name = "ubranch", visible_alias = "clone-under")]
    CloneUnder {
        /// The new snapshot's parent.
        #[arg(value_name = "PARENT", value_parser = parse_id, required_unless_present = "parent")]
        parent_pos: Option<SnapId>,
        /// The snapshot to copy.
        #[arg(value_name = "N", value_parser = parse_id)]
        id: Option<SnapId>,
        #[arg(short = 'p', long = "parent", value_name = "PARENT", value_parser = parse_id)]
        parent: Option<SnapId>,
        #[arg(short = 's', long = "snap", value_name = "N", value_parser = parse_id)]
        snap: Option<SnapId>,
    },
    /// Copy N and all its descendants, keeping the tree's shape (the copy goes beside N).
    CloneTree(Snap),
    /// Delete snapshots and all their descendants (asks first unless --yes).
    #[command(visible_alias = "rm-snapshot")]
    Del {
        #[arg(value_name = "N", value_parser = parse_id, required_unless_present = "snap")]
        ids: Vec<SnapId>,
        #[arg(short = 's', long = "snap", value_name = "N", value_parser = parse_id)]
        snap: Vec<SnapId>,
    },
    /// Open a shell in a writable copy of N: `exit 0` commits, any other exit discards.
    #[command(visible_alias = "cr")]
    Chroot(Snap),
    /// Run a command in a copy of N: exit 0 commits, anything else leaves N unchanged.
    Run {
        #[command(flatten)]
        snap: Snap,
        /// The command and its arguments (after --), run without a shell.
        #[arg(last = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Run a command in N and each of its descendants (stops at the first failure).
    TreeRun {
        #[command(flatten)]
        snap: Snap,
        #[arg(last = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Chroot into the running deployment itself (changes apply live, no commit).
    LiveChroot {
        /// Command to run instead of an interactive shell.
        #[arg(last = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Remove leftovers of interrupted runs (copies, staged parts, orphans).
    #[command(visible_alias = "tmpclear")]
    Tmp,
    /// Remove leftovers of interrupted runs on snapshot N only.
    Unlock(Snap),
    /// Edit N's etc/ast.conf (key::value) with $EDITOR, as a transaction.
    EditConf(Snap),
    /// Check the tree metadata; rebuild it from the subvolumes if lost or corrupt.
    Fsck {
        /// Rebuild even if the metadata looks fine.
        #[arg(long)]
        rebuild: bool,
    },
}

/// `N PKG…` or `-s N PKG…`.
#[derive(Args, Debug)]
pub struct SnapPkgs {
    #[arg(short = 's', long = "snap", value_name = "N", value_parser = parse_id)]
    pub snap: Option<SnapId>,
    /// N followed by the packages (or only the packages with -s).
    #[arg(value_name = "N PKG", required = true, num_args = 1..)]
    pub args: Vec<String>,
}

impl SnapPkgs {
    /// (snapshot, packages); `default` is used when neither -s nor a leading number
    /// names one (the `rast pkg` commands default to the current snapshot).
    pub fn split(&self, default: Option<SnapId>) -> Result<(SnapId, Vec<String>), String> {
        if let Some(n) = self.snap {
            return Ok((n, self.args.clone()));
        }
        match (self.args[0].parse::<SnapId>(), default) {
            (Ok(n), _) => {
                if self.args.len() < 2 {
                    return Err(format!("no packages given for snapshot {n}"));
                }
                Ok((n, self.args[1..].to_vec()))
            }
            (Err(_), Some(d)) => Ok((d, self.args.clone())),
            (Err(e), None) => Err(e.to_string()),
        }
    }
}

/// Security-only upgrade options.
#[derive(Args, Debug)]
pub struct Security {
    /// Upgrade only packages that have a fixed advisory (Arch Security Tracker).
    #[arg(long)]
    pub security: bool,
    /// The tracker feed (all.json): a path or URL.
    #[arg(
        long,
        value_name = "SRC",
        env = "RAST_SECURITY_FEED",
        default_value = "https://security.archlinux.org/issues/all.json"
    )]
    pub security_feed: String,
}

/// `-s N` for commands that default to the current snapshot.
#[derive(Args, Debug)]
pub struct OptSnap {
    /// Snapshot (default: the current one).
    #[arg(short = 's', long = "snap", value_name = "N", value_parser = parse_id)]
    pub snap: Option<SnapId>,
}

#[derive(Subcommand, Debug)]
pub enum PkgCommand {
    /// Install packages into the current snapshot (or -s N); `--check-conflicts` only
    /// resolves the transaction and shows what would change.
    Install {
        #[arg(long)]
        check_conflicts: bool,
        #[arg(long)]
        not_live: bool,
        #[command(flatten)]
        t: SnapPkgs,
    },
    /// Upgrade (`--test`: only show versions old → new and the download size).
    Update {
        #[arg(long)]
        test: bool,
        #[command(flatten)]
        snap: OptSnap,
        #[command(flatten)]
        sec: Security,
    },
    /// Clean the package cache (`--unused-deps`: remove orphans, recursively).
    Clean {
        #[arg(long)]
        unused_deps: bool,
        #[command(flatten)]
        snap: OptSnap,
    },
    /// Re-initialise and populate pacman's keyring in the snapshot.
    #[command(name = "fix-keys")]
    FixKeys(OptSnap),
    /// Show installed (or else repository) package details.
    Info {
        #[command(flatten)]
        snap: OptSnap,
        #[arg(value_name = "PKG", required = true)]
        packages: Vec<String>,
    },
    /// Search the snapshot's repositories by name and description (substring).
    Search {
        #[command(flatten)]
        snap: OptSnap,
        #[arg(value_name = "TERM", required = true)]
        terms: Vec<String>,
    },
}

/// Where the index and the model are.
#[derive(Args, Debug, Clone)]
pub struct IndexLoc {
    /// Index directory [default: /var/lib/rast/index, or [index] dir in rast.toml].
    #[arg(long, value_name = "DIR")]
    pub index_dir: Option<PathBuf>,
    /// Embedding model folder [default: RAST_MODEL_DIR, /usr/share/rast/models/…, ./models/…].
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
}

/// Which agent socket to talk to.
#[derive(Args, Debug, Clone)]
pub struct SocketArg {
    /// Agent socket [default: RAST_AGENT_SOCKET, [agent] socket, /run/rast/agent.sock].
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// Run the agent in the foreground (what `rast-agent` and rast-agent.service run).
    #[command(
        after_help = "Examples:\n  rast-agent                         defaults from /etc/rast/rast.toml [agent]\n  rast agent serve --socket /tmp/a.sock --group 0 --index-dir /tmp/ix"
    )]
    Serve {
        #[command(flatten)]
        socket: SocketArg,
        /// Group allowed to use the socket (name or gid) [default: [agent] group, "rast"].
        #[arg(long, value_name = "GROUP")]
        group: Option<String>,
        #[command(flatten)]
        loc: IndexLoc,
        /// Do not watch pacman's databases and /etc for changes.
        #[arg(long)]
        no_watch: bool,
        /// Quiet time after a change before the index is refreshed [default: 2s].
        #[arg(long, value_name = "DURATION")]
        debounce: Option<String>,
        /// Do not run the [backup.schedule] job.
        #[arg(long)]
        no_backups: bool,
    },
    /// Show whether the agent runs, its index, requests served and the backup job.
    Status {
        #[command(flatten)]
        socket: SocketArg,
    },
    /// Ask the agent to rebuild the index (root; the pacman hook runs this).
    Refresh {
        #[command(flatten)]
        socket: SocketArg,
        /// Succeed quietly when no agent is running (for hooks).
        #[arg(long)]
        if_running: bool,
    },
    /// Ask the agent to start the backup job now (root).
    BackupNow {
        #[command(flatten)]
        socket: SocketArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Index sync databases, the current snapshot's installed packages and /etc
    /// (incremental: only changed documents are embedded again).
    Build {
        /// Sync databases (any pacman form: .db, .db.tar.gz/.zst/.xz) [default: the current snapshot's].
        #[arg(long, value_name = "PATH", num_args = 1..)]
        sync_dbs: Vec<PathBuf>,
        /// Local database directory [default: the current snapshot's].
        #[arg(long, value_name = "DIR")]
        local_db: Option<PathBuf>,
        /// The /etc tree to index [default: the current snapshot's /etc].
        #[arg(long, value_name = "DIR", conflicts_with = "no_etc")]
        etc: Option<PathBuf>,
        /// Do not index /etc.
        #[arg(long)]
        no_etc: bool,
        /// Do not index past versions of /etc files (by default every snapshot's /etc
        /// is walked and each distinct version indexed once, for
        /// `rast config search --history`).
        #[arg(long)]
        no_history: bool,
        #[command(flatten)]
        loc: IndexLoc,
    },
    /// What the index holds, how big it is, when it was built.
    Status {
        #[command(flatten)]
        loc: IndexLoc,
    },
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Number of results.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Only packages or only config.
    #[arg(long, value_name = "package|config")]
    pub kind: Option<String>,
    #[command(flatten)]
    pub loc: IndexLoc,
    /// Search every host of the fleet's Qdrant collection, grouped by host
    /// (needs `[index] backend = "qdrant"`; `--limit` is then per host).
    #[arg(long)]
    pub fleet: bool,
    /// Only this host of the fleet (repeatable; implies --fleet).
    #[arg(long = "host", value_name = "NAME")]
    pub hosts: Vec<String>,
    /// Config search: past versions of /etc files too, each with the snapshots that
    /// held it ("Port 2222 in snapshots 3–5").
    #[arg(long, conflicts_with_all = ["fleet", "hosts"])]
    pub history: bool,
    /// What to look for (words or a phrase).
    #[arg(value_name = "QUERY", required = true, num_args = 1..)]
    pub query: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Search the indexed /etc (same as `rast search --kind config`).
    Search(SearchArgs),
    /// Check rast.toml (or FILE): unknown keys, bad values, unreadable key files; prints
    /// the effective settings (`--json` too). Exit 1 when something is wrong.
    Check {
        /// The file [default: RAST_CONFIG, else /etc/rast/rast.toml].
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        /// Also contact what the file names, read-only: list the backup target, ask the
        /// Qdrant server for its health and collection. Unreachable is a problem.
        #[arg(long)]
        online: bool,
    },
    /// The versions of an /etc file along the snapshot tree: which snapshots hold
    /// which version (content hash), when each was made, and where the file was
    /// added, changed or removed (against the snapshot's parent).
    Log {
        /// /etc/PATH or PATH below /etc.
        #[arg(value_name = "FILE")]
        file: String,
    },
    /// A unified diff of an /etc file between two snapshots; `live` names the running
    /// system's /etc. Files that hold secrets are never shown (see `config log`).
    Diff {
        #[arg(value_name = "FILE")]
        file: String,
        /// A snapshot number, or `live`.
        #[arg(value_name = "A")]
        a: String,
        /// A snapshot number, or `live`.
        #[arg(value_name = "B")]
        b: String,
    },
    /// Put snapshot N's version of an /etc file (content, mode, owner, xattrs) into
    /// snapshot M — a transaction on M, after asking (--yes). The running system's
    /// /etc and the deployment slots are never written: deploy M to boot it.
    Restore {
        #[arg(value_name = "FILE")]
        file: String,
        /// The snapshot whose version to take.
        #[arg(long, value_name = "N", value_parser = parse_id)]
        from: SnapId,
        /// The snapshot to change [default: the current one].
        #[arg(long, value_name = "M", value_parser = parse_id)]
        into: Option<SnapId>,
    },
}

/// Where backups go and who can read them (override `[backup]` of rast.toml).
#[derive(Args, Debug, Clone, Default)]
pub struct BackupTarget {
    /// Target URL: file:///path, s3://bucket/prefix, gs://bucket/prefix, az://container/prefix.
    #[arg(long = "to", alias = "from", value_name = "URL")]
    pub url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Make an age identity (0600 file) and print its recipient (public key).
    Keygen {
        #[arg(
            short = 'o',
            long,
            value_name = "FILE",
            default_value = "/etc/rast/backup-identity.txt"
        )]
        output: PathBuf,
    },
    /// Back up snapshot N (default: current); incremental to the newest complete backup
    /// of the same snapshot unless --full. Resumes an interrupted backup.
    Create {
        #[arg(value_name = "N", value_parser = parse_id)]
        snapshot: Option<SnapId>,
        #[command(flatten)]
        target: BackupTarget,
        /// Encrypt to this age recipient (repeatable; e.g. an offline recovery key too).
        #[arg(long = "recipient", value_name = "AGE_PUBKEY")]
        recipients: Vec<String>,
        #[arg(long)]
        full: bool,
        /// Plaintext bytes per chunk (default 16 MiB).
        #[arg(long, value_name = "BYTES", hide = true)]
        chunk_size: Option<usize>,
        /// Upload at most this many MiB/s (averaged over chunks; [backup] bwlimit_mib).
        #[arg(long, value_name = "MIB_PER_S")]
        bwlimit: Option<f64>,
    },
    /// The configured job: back up each of [backup] snapshots, then prune the target
    /// with the configured policy. What the agent's schedule and rast-backup.timer run.
    Run {
        /// Show what would be backed up and pruned; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// When the configured job runs next ([backup.schedule]) and how the last run went.
    Schedule,
    /// Backups at the target: chains, sizes, complete or not, and chains the last
    /// verify found broken (needs no key).
    List {
        #[command(flatten)]
        target: BackupTarget,
    },
    /// Restore a backup (and the chain before it) into a btrfs directory.
    Restore {
        #[arg(value_name = "ID")]
        id: String,
        #[arg(long, value_name = "DIR")]
        into: PathBuf,
        #[command(flatten)]
        target: BackupTarget,
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// Also add the restored system to the snapshot tree.
        #[arg(long)]
        as_snapshot: bool,
    },
    /// Check what restoring ID needs — its whole chain: every chunk present and
    /// untampered (no key needed); --read-data also decrypts and checks the data.
    /// --all checks every backup and reports objects no backup lists.
    Verify {
        #[arg(value_name = "ID", required_unless_present = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
        /// Decrypt and decompress every chunk and match it against the manifest.
        #[arg(long)]
        read_data: bool,
        /// Read only a deterministic sample: "10%", or group "n/t" (run 1/5 … 5/5 in
        /// turn to cover everything); the other chunks are checked by listing.
        #[arg(long, value_name = "N%|n/t", conflicts_with = "read_data")]
        read_data_subset: Option<String>,
        #[command(flatten)]
        target: BackupTarget,
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Delete backups the retention policy does not keep (never one a kept backup needs).
    Prune {
        #[arg(long)]
        dry_run: bool,
        /// btrbk's preserve_min: all | no | latest | Nh/Nd/Nw/Nm/Ny.
        #[arg(long, value_name = "SPEC")]
        preserve_min: Option<String>,
        /// btrbk's preserve, e.g. "24h 7d 4w 12m 2y".
        #[arg(long, value_name = "SPEC")]
        preserve: Option<String>,
        #[command(flatten)]
        target: BackupTarget,
    },
    /// Remove incomplete backups (no manifest) left by interrupted runs.
    Clean {
        #[command(flatten)]
        target: BackupTarget,
    },
}
