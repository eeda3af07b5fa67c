#!/usr/bin/env python3
"""Builds the planner's labelled corpus: agent/corpus/generated.jsonl.

Each line is a request with the plan it must give (the scorer's format, as in
../shared/nl-eval) plus `family` (the template it came from), `intents` (one intent per
clause, the label the intent model learns — a request may expect `clarify` because a
package is unknown while its intent is still `install`) and `split` (train or val).

    agent/corpus/generate.py [--catalog-dbs DB...] [--out FILE]

Requests are templates × synonyms × real package names from the catalogue (the Arch 2022
sync DBs in tests/data/arch-2022) × snapshot forms × typos, drawn with a fixed seed, so the
output is reproducible. The split is by family: every variant of a template sits on one
side, so validation measures phrasings the model has not seen. Hand-written requests live
in written.jsonl (same format, families of their own) and are split the same way by the
trainer. Never add ../shared/nl-eval/dev.jsonl here: it stays a test.

Template syntax: (a|b|c) one of, [x] optional, {slot} a slot (see SLOTS). The expected
actions refer to slot values as "$slot"; a slot whose value is None drops the field.
"""

import argparse
import hashlib
import json
import os
import random
import re
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_DBS = [os.path.join(ROOT, "tests/data/arch-2022", f"{r}.db.tar.gz") for r in ("core", "extra", "multilib")]

# ---------------------------------------------------------------- catalogue


def read_catalog(paths):
    pkgs = {}
    for p in paths:
        with tarfile.open(p) as t:
            for m in t.getmembers():
                if not m.name.endswith("/desc"):
                    continue
                d, key = {}, None
                for line in t.extractfile(m).read().decode("utf-8", "replace").split("\n"):
                    if line.startswith("%") and line.endswith("%"):
                        key = line.strip("%")
                        d[key] = []
                    elif line and key:
                        d[key].append(line)
                name = d["NAME"][0]
                pkgs.setdefault(name, {"desc": (d.get("DESC") or [""])[0]})
    return pkgs


# Popular packages people ask for by name; only those in the catalogue are used.
POPULAR = """firefox vlc gimp inkscape htop git nginx thunderbird emacs chromium vim python gcc
openssh wget curl ffmpeg steam krita libreoffice-fresh libreoffice-still kdenlive nano zsh rsync
rust php apache mariadb postgresql sqlite cmake clang llvm gdb valgrind strace lsof nmap tcpdump
unzip p7zip zip gzip bzip2 xz zstd okular evince mplayer transmission-gtk deluge gnupg thunar
dolphin nautilus feh imagemagick ghostscript texlive-core tree xterm konsole gnome-terminal
plasma-desktop lightdm sddm gdm networkmanager bluez pulseaudio pipewire alsa-utils cups samba
nfs-utils openvpn wireguard-tools dnsmasq bind iptables nftables qemu-desktop flatpak kate gedit
mousepad lynx links w3m irssi pidgin mutt smartmontools hdparm gparted dosfstools ntfs-3g
btrfs-progs e2fsprogs lvm2 cryptsetup grub efibootmgr linux linux-lts linux-zen linux-hardened
linux-firmware intel-ucode amd-ucode mesa nvidia nvidia-utils xorg-server wayland sudo man-db
bash-completion meson scons make patch jdk-openjdk lua perl tk gtk3 qt5-base qt6-base sdl2
opencv boost python-numpy python-pip python-requests python-django memcached prometheus
lm_sensors mkvtoolnix-cli ctags autoconf automake pkgconf""".split()

# Names people use for packages that are named otherwise (phrase, package). Used as slot
# text; they exercise the resolver as well as the intent model.
MENTIONS = [
    ("postgres", "postgresql"), ("the lts kernel", "linux-lts"), ("the zen kernel", "linux-zen"),
    ("the hardened kernel", "linux-hardened"), ("intel microcode", "intel-ucode"),
    ("amd microcode", "amd-ucode"), ("numpy for python", "python-numpy"),
    ("the rust compiler", "rust"), ("wireguard", "wireguard-tools"), ("java", "jdk-openjdk"),
    ("the postgres database server", "postgresql"), ("the nginx web server", "nginx"),
    ("the gimp image editor", "gimp"), ("the vlc media player", "vlc"),
    ("the firefox browser", "firefox"), ("the chromium browser", "chromium"),
    ("the git version control system", "git"), ("the gcc compiler", "gcc"),
    ("the openssh server", "openssh"), ("ssh", "openssh"), ("the apache web server", "apache"),
    ("mysql", "mariadb"), ("the thunderbird mail client", "thunderbird"),
    ("libreoffice", "libreoffice-fresh"), ("the emacs editor", "emacs"),
    ("the vim editor", "vim"), ("sensors", "lm_sensors"),
]

# Popular names that the catalogue lacks (community, AUR): planning them must ask.
MISSING = ["neovim", "docker", "tmux", "discord", "spotify", "vscode-insiders", "zoom",
           "telegram-desktop", "obs-studio", "alacritty", "kitty", "blender", "audacity"]

SNAP_NUMBERS = [str(n) for n in range(0, 30)] + ["42", "100", "123"]
NUMBER_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
                "6": "six", "7": "seven", "8": "eight", "9": "nine", "10": "ten",
                "11": "eleven", "12": "twelve"}

SEARCH_TOPICS = [
    ("a pdf viewer", "pdf"), ("video editing", "video"), ("a bittorrent client", "bittorrent"),
    ("3d modelling", "3d"), ("a terminal emulator", "terminal"), ("screen recording", "screen"),
    ("a password manager", "password"), ("an irc client", "irc"), ("photo editing", "photo"),
    ("a music player", "music"), ("an email client", "email"), ("a web browser", "browser"),
    ("a text editor", "editor"), ("disk usage", "disk"), ("a file manager", "file manager"),
    ("a vpn", "vpn"), ("a firewall", "firewall"), ("system monitoring", "monitor"),
    ("a screenshot tool", "screenshot"), ("an office suite", "office"), ("a spreadsheet", "spreadsheet"),
    ("a markdown editor", "markdown"), ("a c compiler", "compiler"), ("a dns server", "dns"),
    ("an ftp client", "ftp"), ("backup software", "backup"), ("a chat app", "chat"),
    ("an image viewer", "image"), ("a sound mixer", "mixer"), ("a game emulator", "emulator"),
    ("virtual machines", "virtual"), ("audio recording", "audio"), ("a calculator", "calculator"),
    ("font management", "font"), ("a partition editor", "partition"), ("a cd burner", "burn"),
    ("an ebook reader", "ebook"), ("a note taking app", "note"), ("a clipboard manager", "clipboard"),
    ("a network scanner", "network"), ("password cracking", "password"), ("a dictionary", "dictionary"),
    ("a podcast client", "podcast"), ("a window manager", "window manager"), ("a video player", "video"),
    ("a git gui", "git"), ("a hex editor", "hex"), ("a system cleaner", "clean"),
    ("a process viewer", "process"), ("weather", "weather"), ("webcam", "webcam"),
    ("bluetooth", "bluetooth"), ("printing", "print"), ("scanning documents", "scan"),
    ("cpu temperature", "temperature"), ("mkv files", "mkv"), ("typesetting", "typesetting"),
    ("latex", "latex"), ("a command line window", "command line"), ("internet relay chat", "relay chat"),
]

LIST_FILTERS = ["python", "rust", "perl", "kde", "gnome", "qt", "haskell", "lib32", "xorg", "font",
                "java", "ruby", "php", "texlive", "firmware", "gtk", "vulkan", "nvidia", "audio", "go"]

CONFIG_TOPICS = [
    ("the ssh port", "ssh port"), ("the hostname", "hostname"), ("the mirror list", "mirror"),
    ("the locale", "locale"), ("the timezone", "timezone"), ("the keyboard layout", "keyboard"),
    ("the dns servers", "dns"), ("parallel downloads", "parallel downloads"), ("the swap", "swap"),
    ("root login over ssh", "root login"), ("the default shell", "shell"), ("the mount options", "mount"),
    ("the kernel parameters", "kernel"), ("the sudo rules", "sudo"), ("the ntp servers", "ntp"),
    ("the console font", "font"), ("the makepkg flags", "makepkg"), ("the compression for packages", "compression"),
    ("the journal size", "journal"), ("the network interfaces", "network"), ("password authentication", "password"),
    ("the ignored packages", "ignore"), ("the pacman colours", "color"), ("the initramfs hooks", "hooks"),
    ("the firewall rules", "firewall"), ("the boot loader timeout", "timeout"), ("the users and groups", "group"),
    ("the proxy", "proxy"), ("the language", "lang"), ("the btrfs subvolumes", "subvol"),
]

DESC_TEXTS = ["gaming setup", "web server", "before the upgrade", "work laptop", "testing kde",
              "clean base", "known good", "dev box", "kernel test", "pre-update backup", "media center",
              "experiments", "stable", "office machine", "try wayland", "nvidia drivers"]

RUN_CMDS = ["pacman -Qdt", "pacman -Q", "ls /etc", "cat /etc/os-release", "uname -r",
            "systemctl list-unit-files", "pacman -Qi bash", "df -h", "locale -a", "id",
            "pacman -Qkk", "journalctl --list-boots", "mkinitcpio -P", "ls -la /usr/bin",
            "pacman -Syu --noconfirm", "head /etc/pacman.conf", "grep Port /etc/ssh/sshd_config",
            "locale-gen", "updatedb", "fc-cache -f"]

TARGETS = ["s3://backups/rast", "file:///mnt/backup", "gs://my-bucket/host1", "az://container/rast"]

TASKS = [
    ("read pdfs", "pdf"), ("edit videos", "video"), ("record my screen", "record"),
    ("burn cds", "burn"), ("manage my passwords", "password"), ("chat on irc", "irc"),
    ("monitor the cpu temperature", "temperature"), ("edit mkv files", "mkv"),
    ("write latex documents", "latex"), ("play music", "music"), ("download torrents", "torrent"),
    ("take screenshots", "screenshot"), ("edit photos", "photo"), ("browse the web", "web"),
    ("typeset papers", "typeset"), ("convert video files", "video"), ("rip dvds", "dvd"),
    ("draw diagrams", "diagram"), ("edit audio", "audio"), ("scan for viruses", "virus"),
    ("check disk health", "disk"), ("view images", "image"), ("read email", "mail"),
    ("back up my home folder", "backup"), ("mount iso files", "iso"), ("compress files", "compress"),
    ("encrypt files", "encrypt"), ("sync files between machines", "sync"), ("control the fan speed", "fan"),
    ("manage virtual machines", "virtual"), ("open rar archives", "rar"), ("write code", "code"),
]

# /etc files people name, from the real Arch /etc copy (tests/data/etc-arch-laptop):
# basenames, full paths, and "the pacman config" forms only where the words pick one
# file (the planner resolves names against the index's files; ambiguity is a question).
ETC_DIR = os.path.join(ROOT, "tests/data/etc-arch-laptop")


def _etc_files():
    out = []
    for dp, _, fns in os.walk(ETC_DIR):
        for f in fns:
            p = os.path.join(dp, f)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append(os.path.relpath(p, ETC_DIR))
    return sorted(out)


def _words(s):
    return [w for w in re.split(r"[/._\-]", s.lower()) if w]


def _file_forms():
    files = _etc_files()
    bases = {}
    for rel in files:
        bases.setdefault(rel.rsplit("/", 1)[-1], []).append(rel)
    forms = []
    for rel in files:
        base = rel.rsplit("/", 1)[-1]
        if len(bases[base]) > 1 or base.startswith(("-", "_")) or len(base) < 4:
            continue
        forms += [(base, rel), ("/etc/" + rel, rel), ("my " + base, rel), ("the " + base + " file", rel)]
        stem = base.split(".", 1)[0]
        sw = _words(stem)
        others = [r for r in files if r != rel]
        unique = sw and all(len(w) >= 4 for w in sw) and not any(
            any(t.startswith(w) or w in t for t in _words(o.rsplit("/", 1)[-1]) for w in sw) for o in others)
        if unique:
            words = " ".join(sw)
            forms += [("the " + words + " config", rel), ("my " + words + " configuration", rel),
                      ("the " + words + " settings", rel)]
    return forms


FILE_FORMS = _file_forms()

CFG_WORDS = ["PermitRootLogin", "ParallelDownloads", "HOOKS", "GRUB_TIMEOUT", "Port",
             "PasswordAuthentication", "IgnorePkg", "MAKEFLAGS", "HandleLidSwitch", "SystemMaxUse",
             "KEYMAP", "LANG", "Color", "SigLevel", "nameserver", "Server"]

OUT_OF_SCOPE_2 = [
    "reboot the machine", "shut down the computer", "open firefox", "launch gimp", "start vlc",
    "restart nginx", "enable sshd", "restart the network", "what's my ip address",
    "change my password", "add a user called bob", "mount the usb drive", "connect to wifi",
    "increase the volume", "kill firefox", "compile the kernel", "set the wallpaper",
    "lock the screen", "how do i exit vim", "write a bash script", "make the computer faster",
    "what time is it in tokyo", "open a terminal", "start the ssh service", "stop the web server",
    "show me the weather in paris", "what's the news", "who are you", "what can you do",
    "help", "i'm bored", "let's chat", "tell me something interesting", "translate this",
    "print hello world", "calculate 17 times 23", "convert 5 miles to km", "count to ten",
    "which cpu do i have", "how much ram is free", "how hot is my cpu", "list running processes",
    "log me out", "suspend the laptop", "turn on bluetooth", "pair my headphones",
    "take a screenshot", "play a video", "send a message to alice", "open my email",
    "what's the capital of france", "tell me a story", "why is the sky blue", "good night",
    "make coffee", "order new socks", "install windows", "format c drive",
]

OUT_OF_SCOPE = [
    "make me a sandwich", "what's the weather like", "tell me a joke", "order a pizza",
    "who won the game last night", "send an email to bob", "what time is it",
    "write me a poem", "translate hello into french", "how tall is mount everest",
    "book a flight to berlin", "call my mother", "what is the meaning of life",
    "play some relaxing music", "turn off the lights", "remind me to buy milk",
    "how do i cook rice", "sing a song", "what's two plus two", "open the pod bay doors",
    "hello", "thanks", "good morning", "are you a robot", "buy bitcoin",
    "set an alarm for seven", "show me cat pictures", "draw a picture of a horse",
    "what's on tv tonight", "recommend a movie", "blah blah", "asdf qwerty",
    "how are you doing today", "wash the dishes", "help me with my homework",
]

# ---------------------------------------------------------------- templates

FAMILIES = []


def fam(fid, pattern, expect, n=8, intents=None, chain=None):
    """One phrasing family. expect: list of action dicts ("$slot" = slot value).
    chain: 'first' (may start a chain), 'then' (may follow a clause that made a snapshot,
    uses pronouns), 'any' (may appear anywhere in a chain) or None."""
    FAMILIES.append({"id": fid, "pattern": pattern, "expect": expect, "n": n,
                     "intents": intents, "chain": chain})


A = lambda kind, **kw: dict(kind=kind, **kw)

# --- install
fam("inst-plain", "[please ](install|add) {pkgs}{in}", [A("install", packages="$pkgs", snapshot="$in")], 14, chain="any")
fam("inst-polite", "(could|can|would) you [please ](install|add|set up) {pkgs}{in}[ for me]", [A("install", packages="$pkgs", snapshot="$in")], chain="any")
fam("inst-need", "(i need|i want|i'd like|i would like|we need) {pkgs}{in}", [A("install", packages="$pkgs", snapshot="$in")])
fam("inst-getme", "(get me|give me|grab|fetch|download and install) {pkgs}{in}", [A("install", packages="$pkgs", snapshot="$in")])
fam("inst-put", "put {pkgs} on (this machine|my system|the system|this box|my computer|my laptop)", [A("install", packages="$pkgs")])
fam("inst-put-snap", "put {pkgs} (in|into|on) {snap}", [A("install", packages="$pkgs", snapshot="$snap")])
fam("inst-canget", "(can i get|can i have|could i get|may i have) {pkgs}{in}", [A("install", packages="$pkgs", snapshot="$in")])
fam("inst-setup", "(set up|setup) {pkg}{in}", [A("install", packages="$pkg", snapshot="$in")])
fam("inst-latest", "install the (latest|newest|most recent|current) (version of |release of )?{pkg}{in}", [A("install", packages="$pkg", snapshot="$in")])
fam("inst-latest2", "(get|install) the latest {pkg}", [A("install", packages="$pkg")])
fam("inst-addto", "add {pkgs} to {snap}", [A("install", packages="$pkgs", snapshot="$snap")])
fam("inst-onto", "(install|add) {pkgs} (onto|on top of) {snap}", [A("install", packages="$pkgs", snapshot="$snap")])
fam("inst-snapfirst", "(in|on|for|inside) {snap}[,] (install|add) {pkgs}", [A("install", packages="$pkgs", snapshot="$snap")])
fam("inst-lets", "let's (install|add|get) {pkgs}{in}", [A("install", packages="$pkgs", snapshot="$in")])
fam("inst-iwant-have", "i want to (have|use|try) {pkg}{in}", [A("install", packages="$pkg", snapshot="$in")])
fam("inst-bring", "(bring in|pull in|throw in) {pkgs}{in}", [A("install", packages="$pkgs", snapshot="$in")])
fam("inst-make-avail", "make {pkg} available{in}", [A("install", packages="$pkg", snapshot="$in")], 6)
fam("inst-pkgword", "install the {pkg} package{in}", [A("install", packages="$pkg", snapshot="$in")])
fam("inst-how", "how do i (install|get) {pkg}", [A("install", packages="$pkg")], 6)
fam("inst-need-to", "i need to install {pkgs}", [A("install", packages="$pkgs")])
fam("inst-mention", "(install|i need|get me|add) {mention}{in}", [A("install", packages="$mention", snapshot="$in")], 16)
fam("inst-missing", "(install|add|i want) {missing}", [A("clarify")], 8, intents=["install"])
fam("inst-missing2", "(please install|can you get me|set up) {missing}{in}", [A("clarify")], 6, intents=["install"])
fam("inst-pacman", "(pacman -S|-S) {pkg}", [A("install", packages="$pkg")], 4)
fam("inst-ensure", "make sure {pkg} is installed{in}", [A("install", packages="$pkg", snapshot="$in")], 6)
fam("inst-also", "also install {pkgs}", [A("install", packages="$pkgs")], 4)
fam("inst-it", "(install|add) {pkgs} (in it|into it|there|in the new one|in the clone|to it|inside it|on it)", [A("install", packages="$pkgs", snapshot="new")], 8, chain="then")
fam("inst-onlyverb", "(install|add) (something|a package|it)", [A("clarify")], 4, intents=["install"])

# --- remove
fam("rm-plain", "[please ](uninstall|remove) {pkgs}{from}", [A("remove", packages="$pkgs", snapshot="$from")], 14, chain="any")
fam("rm-getridof", "(get rid of|throw out|ditch|drop|dump|toss|kill off) {pkgs}{from}", [A("remove", packages="$pkgs", snapshot="$from")])
fam("rm-takeoff", "take {pkgs} off (the system|my system|this machine|my computer|{snap})", [A("remove", packages="$pkgs")], 8)
fam("rm-takeout", "take {pkgs} out{from}", [A("remove", packages="$pkgs", snapshot="$from")])
fam("rm-nolonger", "i (no longer|don't) (want|need|use) {pkgs}[ anymore]", [A("remove", packages="$pkgs")])
fam("rm-dontneed", "i don't need {pkgs} anymore[, remove it| so remove it]", [A("remove", packages="$pkgs")])
fam("rm-delete-pkg", "(delete|erase|purge|wipe) the {pkg} package{from}", [A("remove", packages="$pkg", snapshot="$from")])
fam("rm-purge", "(purge|erase|delete) {pkgs} from {snap}", [A("remove", packages="$pkgs", snapshot="$snap")])
fam("rm-polite", "(could|can|would) you (remove|uninstall|get rid of) {pkgs}{from}", [A("remove", packages="$pkgs", snapshot="$from")])
fam("rm-snapfirst", "(in|on|from) {snap}[,] (remove|uninstall|drop) {pkgs}", [A("remove", packages="$pkgs", snapshot="$snap")])
fam("rm-pacman", "(pacman -R|pacman -Rns|-Rns|-R) {pkg}", [A("remove", packages="$pkg")], 4)
fam("rm-unwanted", "{pkg} (is not needed|isn't needed|has to go|must go), (remove|uninstall) it", [A("remove", packages="$pkg")], 6)
fam("rm-mention", "(uninstall|remove|get rid of) {mention}{from}", [A("remove", packages="$mention", snapshot="$from")], 10)
fam("rm-missing", "(uninstall|remove) {missing}", [A("clarify")], 5, intents=["remove"])
fam("rm-it", "(remove|uninstall) {pkgs} (from it|there|from the new one|from the clone)", [A("remove", packages="$pkgs", snapshot="new")], 6, chain="then")
fam("rm-uninst-app", "uninstall the {pkg} (app|application|program|tool)", [A("remove", packages="$pkg")], 6)

# --- upgrade
fam("up-plain", "(update|upgrade) (the system|everything|all packages|all my packages|my packages|the whole system|my system|the machine)", [A("upgrade")], 10, chain="any")
fam("up-full", "(do|run|perform) a (full|complete|whole) system (upgrade|update)", [A("upgrade")])
fam("up-snap", "(update|upgrade) (everything in|all packages in|the packages in|) {snap}", [A("upgrade", snapshot="$snap")], 10, chain="any")
fam("up-snap2", "(update|upgrade) {snap}", [A("upgrade", snapshot="$snap")], 8, chain="any")
fam("up-uptodate", "(bring|get|make) (my system|the system|everything|this machine) up to date", [A("upgrade")])
fam("up-uptodate-snap", "bring {snap} up to date", [A("upgrade", snapshot="$snap")], 6)
fam("up-latest", "(update|upgrade) all packages to (the latest|their latest|the newest) versions?", [A("upgrade")], 6)
fam("up-pacman", "(pacman -Syu|-Syu|sudo pacman -Syu)", [A("upgrade")], 3)
fam("up-apply", "(apply|install) (all|the|all available|pending) updates{in}", [A("upgrade", snapshot="$in")])
fam("up-check", "are there (any )?updates", [A("upgrade")], 3)
fam("up-sec", "(update|upgrade) (only )?(the )?packages with security (fixes|patches|updates)", [A("upgrade", security_only=True)])
fam("up-sec2", "(apply|install) (only )?(the )?security (updates|fixes|patches){in}", [A("upgrade", security_only=True, snapshot="$in")])
fam("up-sec3", "(patch|fix) (the )?(known )?(vulnerabilities|cves|security holes|security issues){in}", [A("upgrade", security_only=True, snapshot="$in")])
fam("up-sec4", "upgrade just what has a (cve|security advisory|vulnerability)", [A("upgrade", security_only=True)], 6)
fam("up-it", "(update|upgrade) it", [A("upgrade", snapshot="new")], 4, chain="then")
fam("up-newer", "get the newest versions of everything", [A("upgrade")], 3)
fam("up-polite", "(could|can) you (update|upgrade) (the system|everything|my packages)", [A("upgrade")], 6)

# --- search
fam("se-plain", "(search|look) for {topic}", [A("search", query_any="$topic")], 12)
fam("se-find", "find (me )?(a package |packages |something |software |a program |an app |a tool )?for {topic}", [A("search", query_any="$topic")], 10)
fam("se-isthere", "is there (a package|anything|something|a program|software) for {topic}", [A("search", query_any="$topic")], 10)
fam("se-arethere", "are there (any )?packages (for|about|related to) {topic}", [A("search", query_any="$topic")])
fam("se-which", "which (package|program|app|tool) (can i use|should i use|is good) for {topic}", [A("search", query_any="$topic")])
fam("se-recommend", "(recommend|suggest) (a package|something|software|a tool) for {topic}", [A("search", query_any="$topic")])
fam("se-options", "what are (my|the) options for {topic}", [A("search", query_any="$topic")], 6)
fam("se-pacman", "(pacman -Ss|-Ss) {topicword}", [A("search", query_any="$topicword")], 4)
fam("se-what-have", "what (packages|software) (do you have|is there|exists|is available) for {topic}", [A("search", query_any="$topic")])
fam("se-need-for", "i need something for {topic}", [A("search", query_any="$topic")], 6)
fam("se-lookup", "look up packages (about|for|matching) {topic}", [A("search", query_any="$topic")], 6)
fam("se-alternatives", "(alternatives|an alternative) to {pkg}", [A("search", query_any="$pkg")], 6)

# --- list installed
fam("li-plain", "(list|show) (the )?installed packages{in}", [A("list_installed", snapshot="$in")], 10)
fam("li-what", "what (packages|software|programs) (are installed|do i have installed|have i installed|is installed){in}", [A("list_installed", snapshot="$in")])
fam("li-everything", "show me everything (installed|that is installed){in}", [A("list_installed", snapshot="$in")])
fam("li-filter", "(list|show) (the |my )?installed {filter} packages{in}", [A("list_installed", query="$filter", snapshot="$in")])
fam("li-filter2", "what {filter} packages (do i have|are installed|have i got)( installed)?{in}", [A("list_installed", query="$filter", snapshot="$in")])
fam("li-filter3", "which packages (about|for|related to|matching) {filter} are installed", [A("list_installed", query="$filter")])
fam("li-isinst", "is {pkg} installed{in}", [A("list_installed", query="$pkgq", snapshot="$in")], 10)
fam("li-dohave", "(do i have|have i got) {pkg} installed{in}", [A("list_installed", query="$pkgq", snapshot="$in")])
fam("li-pacman", "(pacman -Q|-Q|pacman -Qe)", [A("list_installed")], 3)
fam("li-whatsin", "what's (installed )?in {snap}", [A("list_installed", snapshot="$snap")], 8)
fam("li-contents", "(list|show) the packages (of|in) {snap}", [A("list_installed", snapshot="$snap")], 8)
fam("li-count", "how many packages (are installed|do i have){in}", [A("list_installed", snapshot="$in")], 6)

# --- info
fam("in-about", "tell me (about|more about) (the )?{pkg}( package)?", [A("info", packages="$pkg")], 10)
fam("in-info", "(info|information|details) (on|about|for) {pkg}", [A("info", packages="$pkg")])
fam("in-show", "show (me )?(the )?details (of|about|for) {pkg}", [A("info", packages="$pkg")])
fam("in-version", "what version of {pkg} is (available|in the repos|in the repositories|there)", [A("info", packages="$pkg")])
fam("in-which-version", "which version of {pkg} (is in the repos|would i get|is available|do the repos have)", [A("info", packages="$pkg")])
fam("in-whatis", "what is {pkg}", [A("info", packages="$pkg")], 6)
fam("in-whatdoes", "what does {pkg} do", [A("info", packages="$pkg")], 6)
fam("in-describe", "describe the {pkg} package", [A("info", packages="$pkg")], 6)
fam("in-pacman", "(pacman -Si|-Si|-Qi) {pkg}", [A("info", packages="$pkg")], 4)
fam("in-howbig", "how big is {pkg}", [A("info", packages="$pkg")], 4)
fam("in-deps", "what does {pkg} depend on", [A("info", packages="$pkg")], 4)
fam("in-current-ver", "what's the (current|latest) version of {pkg}", [A("info", packages="$pkg")], 6)

# --- clean unused
fam("cu-plain", "(remove|clean up|delete|purge) (the )?(unused|orphaned|unneeded) (dependencies|packages|deps)", [A("clean_unused")], 10)
fam("cu-orphans", "(clean up|get rid of|remove) (the )?orphans{in}", [A("clean_unused", snapshot="$in")])
fam("cu-nothing-dep", "(get rid of|remove|delete) packages (nothing|no package|nobody) (depends on|needs|requires)", [A("clean_unused")])
fam("cu-nolonger", "remove (the )?(dependencies|packages) (that are )?no longer needed", [A("clean_unused")])
fam("cu-autoremove", "(autoremove|run an autoremove)", [A("clean_unused")], 3)
fam("cu-leftover", "(clean out|sweep away|tidy up) (the )?leftover dependencies{in}", [A("clean_unused", snapshot="$in")])
fam("cu-pacman", "(pacman -Qdt|-Qdt|pacman -Qdtq)", [A("clean_unused")], 3)
fam("cu-snap", "remove (the )?unused (dependencies|packages) from {snap}", [A("clean_unused", snapshot="$snap")])

# --- fix keys
fam("fk-plain", "fix (the )?(pacman )?(keys|keyring|keyrings|signing keys)", [A("fix_keys")], 8)
fam("fk-broken", "my (pacman )?keyring is (broken|messed up|corrupt)", [A("fix_keys")])
fam("fk-errors", "pacman (says|complains about|shows) (invalid or corrupted package|unknown trust|signature errors|key errors)", [A("fix_keys")])
fam("fk-repair", "(repair|reset|reinitialize|refresh) the (pacman )?(keyring|keys|gpg keys)", [A("fix_keys")])
fam("fk-sig", "(signatures|package signatures) (are failing|fail|are broken)", [A("fix_keys")], 6)
fam("fk-brokenpkgs", "fix (my )?broken packages", [A("fix_keys")], 4)

# --- refresh
fam("rf-plain", "refresh the (package )?(databases|database|package lists|repos|repositories)", [A("refresh")], 8)
fam("rf-sync", "(sync|synchronize|update) the package (databases|database|lists)", [A("refresh")])
fam("rf-mirrors", "(pull|fetch) the latest package lists( from the mirrors)?", [A("refresh")])
fam("rf-pacman", "(pacman -Sy|-Sy)", [A("refresh")], 2)
fam("rf-snap", "refresh the package databases (in|of) {snap}", [A("refresh", snapshot="$snap")], 6)

# --- tree
fam("tr-show", "(show|display|print) (me )?(the )?(snapshot )?tree", [A("tree")], 10)
fam("tr-list", "(list|show) (all )?(my |the )?snapshots", [A("tree")])
fam("tr-what", "what snapshots (do i have|are there|exist)", [A("tree")])
fam("tr-how", "how (are|is) my snapshots? (laid out|organized|arranged)", [A("tree")], 6)
fam("tr-overview", "give me an overview of (the|my) snapshots", [A("tree")], 6)

# --- current
fam("cur-which", "(which|what) snapshot am i (on|in|using|running)", [A("current")], 8)
fam("cur-booted", "which snapshot is (booted|running|active|live)", [A("current")])
fam("cur-current", "(show|what is|what's) the current snapshot", [A("current")])
fam("cur-number", "what('s| is) the number of the (snapshot i'm on|running snapshot|booted snapshot)", [A("current")], 6)
fam("cur-where", "where am i (in the tree)?", [A("current")], 4)

# --- new tree
fam("nt-plain", "(make|create|start) a (new|fresh|brand new) (base )?tree", [A("new_tree")], 8)
fam("nt-base", "(make|create) a new snapshot (from|of) the base", [A("new_tree")])
fam("nt-fresh", "start (over|again) from (a clean|the) base", [A("new_tree")], 6)
fam("nt-empty", "i want a fresh (base )?snapshot", [A("new_tree")], 6)

# --- clone
fam("cl-plain", "(clone|copy|duplicate) {snap}", [A("clone", snapshot="$snap")], 12, chain="first")
fam("cl-copy", "make a (copy|clone|duplicate) of {snap}", [A("clone", snapshot="$snap")], 10, chain="first")
fam("cl-newtree", "(make|create) a (copy|clone) of {snap} as a new tree", [A("clone", snapshot="$snap")], chain="first")
fam("cl-from", "(make|create) a new snapshot (from|based on) {snap}", [A("clone", snapshot="$snap")], chain="first")
fam("cl-polite", "(could|can) you (clone|copy) {snap}", [A("clone", snapshot="$snap")], 6, chain="first")
fam("cl-nosnap", "clone (a snapshot|something)", [A("clarify")], 3, intents=["clone"])

# --- clone tree
fam("ct-whole", "clone the whole tree (under|below|of) {snap}", [A("clone_tree", snapshot="$snap")], 8, chain="first")
fam("ct-rec", "(clone|copy) {snap} (recursively|with (all )?its children|and its children|with everything under it|including its children)", [A("clone_tree", snapshot="$snap")], 10, chain="first")
fam("ct-subtree", "(clone|copy|duplicate) the subtree (of|at|rooted at) {snap}", [A("clone_tree", snapshot="$snap")], chain="first")

# --- branch
fam("br-plain", "(create|make|add) a (branch|new branch|child|child snapshot) (from|of|off|under) {snap}", [A("branch", snapshot="$snap")], 10, chain="first")
fam("br-branch", "(branch|fork) (off )?{snap}", [A("branch", snapshot="$snap")], chain="first")
fam("br-child", "(give|add) {snap} a (new )?child", [A("branch", snapshot="$snap")], chain="first")
fam("br-newchild", "new child snapshot of {snap}", [A("branch", snapshot="$snap")], 6, chain="first")

# --- clone branch (sibling)
fam("cb-sibling", "clone {snap} as a sibling", [A("clone_branch", snapshot="$snap")], 8, chain="first")
fam("cb-sameparent", "(clone|copy) {snap} (under|beneath|below) the same parent", [A("clone_branch", snapshot="$snap")], chain="first")
fam("cb-beside", "(clone|copy) {snap} (next to|beside|alongside) itself", [A("clone_branch", snapshot="$snap")], 6, chain="first")
fam("cb-sibling2", "make a sibling (copy )?of {snap}", [A("clone_branch", snapshot="$snap")], chain="first")

# --- clone under
fam("cun-under", "(clone|copy) {snap} (under|below|beneath|into|as a child of) {snap2}", [A("clone_under", snapshot="$snap", parent="$snap2")], 10, chain="first")
fam("cun-put", "put a copy of {snap} (under|below|beneath) {snap2}", [A("clone_under", snapshot="$snap", parent="$snap2")], chain="first")
fam("cun-make", "make a (copy|clone) of {snap} (under|below|as a child of) {snap2}", [A("clone_under", snapshot="$snap", parent="$snap2")], chain="first")
fam("cun-hang", "(hang|attach|place) a clone of {snap} under {snap2}", [A("clone_under", snapshot="$snap", parent="$snap2")], 6, chain="first")

# --- deploy
fam("dp-plain", "deploy {snap}", [A("deploy", snapshot="$snap")], 10, chain="any")
fam("dp-boot", "(boot into|boot from|boot) {snap} (next time|on the next boot|after reboot|from now on)", [A("deploy", snapshot="$snap")], chain="any")
fam("dp-default", "(make|set) {snap} (the default|as default|the default snapshot|the one to boot|as the one to boot|the boot snapshot)", [A("deploy", snapshot="$snap")], chain="any")
fam("dp-switch", "switch (the system )?to {snap}( on the next boot)?", [A("deploy", snapshot="$snap")], chain="any")
fam("dp-use", "use {snap} (from the next boot|when i reboot|as my system)", [A("deploy", snapshot="$snap")], chain="any")
fam("dp-want-boot", "i want to boot (into )?{snap}", [A("deploy", snapshot="$snap")], 6, chain="any")
fam("dp-it", "(deploy it|boot into it|make it the default|set it as the one to boot|deploy the new one|boot it next time)", [A("deploy", snapshot="new")], 8, chain="then")
fam("dp-nosnap", "deploy (a snapshot|something)", [A("clarify")], 3, intents=["deploy"])

# --- rollback
fam("rb-plain", "(roll back|rollback|revert)( the system)?( to the previous deployment| to the last working snapshot| to the previous snapshot)?", [A("rollback")], 10)
fam("rb-undo", "undo the last (deployment|deploy|upgrade|update)", [A("rollback")])
fam("rb-broke", "the (update|upgrade|last deploy|new deployment) broke (my system|everything|the system|wifi|my desktop)[, (undo it|go back|roll it back|revert it)]", [A("rollback")], 10)
fam("rb-goback", "go back to (the previous|the last|the old|the last good) (deployment|snapshot|system)", [A("rollback")])
fam("rb-notboot", "(my system|it) (doesn't|won't|does not) boot (properly )?(anymore|since the update), (go back|roll back|revert)", [A("rollback")], 6)
fam("rb-restore-prev", "restore the previous deployment", [A("rollback")], 4)
fam("rb-take-back", "take back the last deployment", [A("rollback")], 4)

# --- delete
fam("de-plain", "(delete|remove|destroy|drop|erase) {snapx}", [A("delete", snapshot="$snapx")], 12, chain="any")
fam("de-getrid", "get rid of {snapx}", [A("delete", snapshot="$snapx")], chain="any")
fam("de-trash", "(trash|nuke|wipe|throw away|discard) (the tree at|the tree of|the snapshot tree at|) {snapx}", [A("delete", snapshot="$snapx")], 10, chain="any")
fam("de-nolonger", "i (no longer need|don't need) {snapx}( anymore)?", [A("delete", snapshot="$snapx")], chain="any")
fam("de-polite", "(could|can) you (delete|remove) {snapx}", [A("delete", snapshot="$snapx")], 6, chain="any")
fam("de-it", "(delete it|remove it again|throw it away)", [A("delete", snapshot="new")], 3, chain="then")
fam("de-nosnap", "delete (a|the|some) snapshot", [A("clarify")], 3, intents=["delete"])

# --- describe
fam("ds-label", "(label|tag) {snap} (as|with) {text}", [A("describe", snapshot="$snap", text_any="$text")], 10, chain="any")
fam("ds-rename", "rename {snap} to {text}", [A("describe", snapshot="$snap", text_any="$text")], chain="any")
fam("ds-name", "(name|call) {snap} {text}", [A("describe", snapshot="$snap", text_any="$text")], chain="any")
fam("ds-describe", "describe {snap} as {text}", [A("describe", snapshot="$snap", text_any="$text")], chain="any")
fam("ds-desc", "(set|change) the description of {snap} to {text}", [A("describe", snapshot="$snap", text_any="$text")], chain="any")
fam("ds-quote", "(label|name|describe) {snap} \"{text}\"", [A("describe", snapshot="$snap", text_any="$text")], chain="any")
fam("ds-give", "give {snap} the (description|label|name) {text}", [A("describe", snapshot="$snap", text_any="$text")], chain="any")
fam("ds-mark", "mark {snap} as {text}", [A("describe", snapshot="$snap", text_any="$text")], 6, chain="any")
fam("ds-it", "(label it|call it|name it) {text}", [A("describe", snapshot="new", text_any="$text")], 6, chain="then")

# --- run
fam("run-inside", "run {cmd} (inside|in|on) {snap}", [A("run", snapshot="$snap", command_any="$cmd")], 10)
fam("run-exec", "execute {cmd} (in|inside) {snap}", [A("run", snapshot="$snap", command_any="$cmd")])
fam("run-snapfirst", "inside {snap} run {cmd}", [A("run", snapshot="$snap", command_any="$cmd")])
fam("run-in", "in {snap}[,] (run|execute) {cmd}", [A("run", snapshot="$snap", command_any="$cmd")])
fam("run-chroot", "run {cmd} in a chroot of {snap}", [A("run", snapshot="$snap", command_any="$cmd")], 6)
fam("run-unsafe", "run (rm -rf /|bash|sudo su|dd if=/dev/zero of=/dev/sda|python3 -c evil) in {snap}", [A("clarify")], 6, intents=["run"])
fam("run-nosnap", "run {cmd}", [A("clarify")], 4, intents=["run"])

# --- sync
fam("sy-plain", "sync the tree (under|of|below|at) {snap}", [A("sync", snapshot="$snap")], 8)
fam("sy-sync", "(sync|synchronize|synchronise) {snap}( into its children| to its children| with its children)?", [A("sync", snapshot="$snap")])
fam("sy-prop", "propagate (the packages of )?{snap} (to|into|down to) (its|the) (children|branches|child snapshots)", [A("sync", snapshot="$snap")])
fam("sy-push", "push the packages (of|from) {snap} (down )?(to|into) its children", [A("sync", snapshot="$snap")], 6)

# --- etc update
fam("eu-save", "(save|commit|keep|persist) (my |the )?(/etc|etc) changes", [A("etc_update")], 8)
fam("eu-changes", "(save|commit|store) the changes (i made )?(to|in) /etc", [A("etc_update")])
fam("eu-update", "(update|apply|sync) /etc( into the current snapshot)?", [A("etc_update")], 6)
fam("eu-config", "(save|commit|keep) my (config|configuration) changes", [A("etc_update")])
fam("eu-keep", "make my /etc edits (stick|permanent|survive)", [A("etc_update")], 6)

# --- diff
fam("df-changed", "what changed between {snap} and {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 10)
fam("df-diff", "(diff|compare) {snap} (and|with|to|against) {snap2}", [A("diff", snapshots=["$snap", "$snap2"])])
fam("df-different", "what('s| is) (different|the difference) between {snap} and {snap2}", [A("diff", snapshots=["$snap", "$snap2"])])
fam("df-show", "show (me )?the (differences|changes|diff) between {snap} and {snap2}", [A("diff", snapshots=["$snap", "$snap2"])])
fam("df-how", "how (does|do) {snap} (differ from|compare to) {snap2}", [A("diff", snapshots=["$snap", "$snap2"])])
fam("df-pkgs", "which packages differ between {snap} and {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 6)
fam("df-one", "what changed in {snap}", [A("clarify")], 3, intents=["diff"])

# --- backups
fam("bc-now", "(make|take|create|run|do) a backup( now)?", [A("backup_create")], 8)
fam("bc-snap", "(back up|backup) {snap}( to the cloud| to s3| offsite| now)?", [A("backup_create", snapshot="$snap")], 10, chain="any")
fam("bc-target", "(back up|backup) {snap} to {target}", [A("backup_create", snapshot="$snap")], 6)
fam("bc-system", "(back up|backup|save a backup of) (my system|the system|everything|this machine)", [A("backup_create")])
fam("bc-send", "send {snap} to (the cloud|my backup bucket|s3|offsite storage)", [A("backup_create", snapshot="$snap")], 6)
fam("bc-encrypted", "make an encrypted backup of {snap}", [A("backup_create", snapshot="$snap")], 6)
fam("bc-it", "(back it up|back up the new one)", [A("backup_create", snapshot="new")], 3, chain="then")
fam("bl-list", "(list|show) (my |the |all )?backups", [A("backup_list")], 8)
fam("bl-which", "(which|what) backups (do i have|are there|exist)", [A("backup_list")])
fam("bl-stored", "what (is|have i) (stored|backed up) (in the cloud|offsite|on s3)", [A("backup_list")], 6)
fam("bl-when", "when was my last backup", [A("backup_list")], 4)
fam("bv-check", "(check|verify|test) (that )?(my |the |all )?backups( are ok| are fine| are intact| are valid| work)?", [A("backup_verify")], 10)
fam("bv-restorable", "(can|could) my backups (be restored|actually be restored)", [A("backup_verify")], 4)
fam("bv-corrupt", "(are|is) (any of )?my backups? (corrupt|corrupted|damaged|broken)", [A("backup_verify")], 6)
fam("bp-prune", "(prune|thin out|expire) (the )?(old |older )?backups", [A("backup_prune")], 8)
fam("bp-delete", "(delete|remove|clean up|get rid of) (the )?(old|older|outdated|expired) backups", [A("backup_prune")])
fam("bp-retention", "apply the (backup )?retention policy", [A("backup_prune")], 4)
fam("br-restore", "restore {snap} from (the )?(backup|backups|the cloud)", [A("backup_restore", snapshot="$snap")], 8)
fam("br-restore2", "(bring back|recover|get back) {snap} from (the |my )?backups?", [A("backup_restore", snapshot="$snap")])
fam("br-restore3", "restore the (latest|newest|last) backup of {snap}", [A("backup_restore", snapshot="$snap")], 6)

# --- config search
# --- config history: log, diff, restore of one /etc file
fam("cl-when", "when did i (change|edit|modify|touch|last change) {cfgfile}", [A("config_log")], 10, intents=["config_log"])
fam("cl-history", "(show|give me|print|display) (me )?the (history|change history|log) of {cfgfile}", [A("config_log")], 8)
fam("cl-how", "how has {cfgfile} changed( over time| across my snapshots| between snapshots)?", [A("config_log")], 6)
fam("cl-which", "which snapshots (have|changed|modified|touched) {cfgfile}", [A("config_log")], 6)
fam("cl-versions", "(list|show) (all )?(the )?versions of {cfgfile}", [A("config_log")], 6)
fam("cl-track", "(track|trace) the changes (to|of) {cfgfile}", [A("config_log")], 4)
fam("cl-waswhen", "when was {cfgfile} (changed|modified|edited|last edited)", [A("config_log")], 6)
fam("cl-log", "(log|history|changelog) (of|for) {cfgfile}", [A("config_log")], 4)
fam("cd-looked", "what did {cfgfile} look like in {snap}", [A("config_diff", snapshots=["$snap", "live"])], 10)
fam("cd-asitwas", "show (me )?{cfgfile} as it was in {snap}", [A("config_diff", snapshots=["$snap", "live"])], 6)
fam("cd-between", "(diff|compare) {cfgfile} between {snap} and {snap2}", [A("config_diff", snapshots=["$snap", "$snap2"])], 8)
fam("cd-changedin", "what changed in {cfgfile} (between|from) {snap} (and|to) {snap2}", [A("config_diff", snapshots=["$snap", "$snap2"])], 6)
fam("cd-differ", "how (is|was) {cfgfile} different in {snap}", [A("config_diff", snapshots=["$snap", "live"])], 6)
fam("cd-vsnow", "compare (my current|today's|the current) {cfgfile} with (the one in |the version in )?{snap}", [A("config_diff", snapshots=["$snap", "live"])], 6)
fam("cd-whatdiff", "what is different about {cfgfile} in {snap}", [A("config_diff", snapshots=["$snap", "live"])], 4)
fam("cr-putback", "put back (my old |the old |the )?{cfgfile} from {snap}", [A("config_restore")], 10, intents=["config_restore"])
fam("cr-restore", "restore {cfgfile} from {snap}", [A("config_restore")], 8)
fam("cr-bringback", "(bring back|recover|get back) {cfgfile} (from|as it was in) {snap}", [A("config_restore")], 8)
fam("cr-undo", "undo my changes to {cfgfile} (using|with) the (copy|version) (in|from) {snap}", [A("config_restore")], 4)
fam("cr-copy", "copy {cfgfile} from {snap} (into|to) {snap2}", [A("config_restore", snapshot="$snap2")], 6)
fam("cr-revert", "(revert|roll back|reset) {cfgfile} to (the version in |the one from |how it was in )?{snap}", [A("config_restore")], 8)
fam("cr-takeold", "take the old {cfgfile} from {snap} (again|back)", [A("config_restore")], 4)
fam("cr-want", "i want (my|the) {cfgfile} from {snap} back", [A("config_restore")], 4)

fam("cl-whichsnap", "(which|what) snapshot[s] (changed|modified|edited|touched) {cfgfile}", [A("config_log")], 6)
fam("cl-inwhich", "in (which|what) snapshots did {cfgfile} change", [A("config_log")], 5)
fam("cl-changes", "(show|list) (the )?changes (to|of|in) {cfgfile}( over time| along the tree)?", [A("config_log")], 6)
fam("cl-happened", "what happened to {cfgfile}( over time)?", [A("config_log")], 4)
fam("cl-whohas", "which snapshots (contain|hold|have) {cfgfile}", [A("config_log")], 5)
fam("cl-follow", "(follow|watch|see) how {cfgfile} (evolved|changed)", [A("config_log")], 4)
fam("cl-edits", "(show|list) (every|each|all) (edit|change|modification) (of|to) {cfgfile}", [A("config_log")], 4)
fam("cl-hist2", "{cfgfile} (history|change log|changes)", [A("config_log")], 4)
fam("cd-oldnew", "(show|give) me the (diff|difference|differences) (of|for|in) {cfgfile} between {snap} and {snap2}", [A("config_diff", snapshots=["$snap", "$snap2"])], 5)
fam("cd-vs", "{cfgfile} in {snap} (vs|versus|against) {snap2}", [A("config_diff", snapshots=["$snap", "$snap2"])], 4)
fam("cd-howwas", "how did {cfgfile} look in {snap}", [A("config_diff", snapshots=["$snap", "live"])], 5)
fam("cd-whatwas", "what was in {cfgfile} (in|at|back in) {snap}", [A("config_diff", snapshots=["$snap", "live"])], 5)
fam("cd-changedsince", "what changed in {cfgfile} since {snap}", [A("config_diff", snapshots=["$snap", "live"])], 5)
fam("cr-rollfile", "roll {cfgfile} back to {snap}", [A("config_restore")], 5)
fam("cr-revertto", "revert {cfgfile} to the (copy|one|version) (in|from) {snap}", [A("config_restore")], 5)
fam("cr-rollbackfile", "roll back (only |just )?{cfgfile} to {snap}", [A("config_restore")], 5)
fam("cr-goback", "go back to the {cfgfile} (from|of|in) {snap}", [A("config_restore")], 4)
fam("cr-replace", "replace {cfgfile} with the (one|version|copy) from {snap}", [A("config_restore")], 5)
fam("cr-useold", "use the (old )?{cfgfile} from {snap} (again|instead)", [A("config_restore")], 4)
fam("cr-restoreto", "restore {cfgfile} (to|as it was in) {snap}", [A("config_restore")], 5)
fam("cr-fromto", "(restore|put) {cfgfile} from {snap} (into|in|onto) {snap2}", [A("config_restore", snapshot="$snap2")], 4)

fam("cs-where", "where is {setting} (configured|set|defined)", [A("config_search", query_any="$setting")], 10)
fam("cs-which", "which (config )?file (sets|configures|defines|controls) {setting}", [A("config_search", query_any="$setting")])
fam("cs-where-did", "where did i (set|set up|configure|change|define) {setting}", [A("config_search", query_any="$setting")])
fam("cs-find", "find (the )?(config|configuration|setting|settings) for {setting}", [A("config_search", query_any="$setting")])
fam("cs-search", "search (/etc|my config|the configuration|etc) for {setting}", [A("config_search", query_any="$setting")])
fam("cs-how", "how is {setting} configured", [A("config_search", query_any="$setting")], 6)
fam("cs-show", "show me (the )?(config|configuration|setting) (of|for) {setting}", [A("config_search", query_any="$setting")])
fam("cs-what", "what is {setting} set to", [A("config_search", query_any="$setting")], 6)
fam("cs-grep", "(grep|look through) /etc for {setting}", [A("config_search", query_any="$setting")], 6)

# --- out of scope
fam("oos", "{oos}", [A("clarify")], 40, intents=["clarify"])

# --- compositions with "a new clone of N"
fam("comp-inst-clone", "(install|add) {pkgs} (in|into|on) a (new )?(clone|copy) of {snap}", [A("clone", snapshot="$snap"), A("install", packages="$pkgs", snapshot="new")], 8, intents=["install"])
fam("comp-inst-branch", "(install|add) {pkgs} (in|into) a new (branch|child) of {snap}", [A("branch", snapshot="$snap"), A("install", packages="$pkgs", snapshot="new")], 6, intents=["install"])
fam("comp-rm-clone", "(remove|uninstall) {pkgs} (in|from) a (new )?(clone|copy) of {snap}", [A("clone", snapshot="$snap"), A("remove", packages="$pkgs", snapshot="new")], 6, intents=["remove"])
fam("comp-up-clone", "(upgrade|update) a (new )?(clone|copy) of {snap}", [A("clone", snapshot="$snap"), A("upgrade", snapshot="new")], 6, intents=["upgrade"])

# ---------------------------------------------------------------- more phrasing families
# Many small families per intent that overlap in their words, as people's phrasings do:
# validation (other families) then measures phrasings the model has not seen.

# install
fam("inst2-please-end", "(install|add|get) {pkgs} please", [A("install", packages="$pkgs")], 6, chain="any")
fam("inst2-get-installed", "(please )?get {pkgs} installed{in}", [A("install", packages="$pkgs", snapshot="$in")], 6)
fam("inst2-like-to", "i('d| would) like to (install|add|get|have) {pkgs}{in}", [A("install", packages="$pkgs", snapshot="$in")], 6)
fam("inst2-love", "i('d| would) love (to have |to get |to try )?{pkg}", [A("install", packages="$pkg")], 6)
fam("inst2-goahead", "(go ahead and|go and|just) install {pkgs}{in}", [A("install", packages="$pkgs", snapshot="$in")], 6)
fam("inst2-forme", "install {pkgs} for me{in}", [A("install", packages="$pkgs", snapshot="$in")], 5)
fam("inst2-terse-need", "(need|want) {pkgs}", [A("install", packages="$pkgs")], 6)
fam("inst2-terse-please", "{pkg}(,)? please", [A("install", packages="$pkg")], 6)
fam("inst2-gimme", "(gimme|hook me up with|set me up with|equip me with) {pkgs}", [A("install", packages="$pkgs")], 6)
fam("inst2-missing-install", "i'm missing {pkg}, (install|add|get) it", [A("install", packages="$pkg")], 5)
fam("inst2-too", "install {pkgs} (as well|too)", [A("install", packages="$pkgs")], 5)
fam("inst2-addpkg", "add the {pkg} package (to|into|on) {snap}", [A("install", packages="$pkg", snapshot="$snap")], 5)
fam("inst2-include", "(include|incorporate) {pkgs} in {snap}", [A("install", packages="$pkgs", snapshot="$snap")], 5)
fam("inst2-snapneeds", "{snap} (needs|should have|must have|wants) {pkgs}", [A("install", packages="$pkgs", snapshot="$snap")], 6)
fam("inst2-equip", "equip {snap} with {pkgs}", [A("install", packages="$pkgs", snapshot="$snap")], 5)
fam("inst2-ensure-snap", "make sure {snap} has {pkg}", [A("install", packages="$pkg", snapshot="$snap")], 5)
fam("inst2-onto", "get {pkgs} (onto|on|into) {snap}", [A("install", packages="$pkgs", snapshot="$snap")], 5)
fam("inst2-load", "(load|put) {pkg} onto (the|my) system", [A("install", packages="$pkg")], 5)
fam("inst2-repos", "install {pkg} from the (repos|repositories|official repos)", [A("install", packages="$pkg")], 5)
fam("inst2-onmymachine", "i want {pkg} on (my machine|this computer|my pc|the box)", [A("install", packages="$pkg")], 5)
fam("inst2-installme", "install me {pkgs}", [A("install", packages="$pkgs")], 4)
fam("inst2-letme", "let me have {pkg}", [A("install", packages="$pkg")], 4)
fam("inst2-download", "(please )?download {pkgs}", [A("install", packages="$pkgs")], 5)
fam("inst2-now", "install {pkgs} (now|right now|asap|immediately)", [A("install", packages="$pkgs")], 5)
fam("inst2-howabout", "how about (installing|adding) {pkg}", [A("install", packages="$pkg")], 4)
fam("inst2-addsys", "can you add {pkg} to (the|my) system", [A("install", packages="$pkg")], 5)
fam("inst2-ismissing", "{pkg} is (missing|not installed), (add|install) it", [A("install", packages="$pkg")], 5)
fam("inst2-needpkg", "i (need|want) the {pkg} (package|program|app|tool)", [A("install", packages="$pkg")], 5)
fam("inst2-use", "i('d like| want) to use {pkg}{in}", [A("install", packages="$pkg", snapshot="$in")], 5)
fam("inst2-app", "(install|get) the {pkg} (app|program|tool|application)", [A("install", packages="$pkg")], 5)
fam("inst2-tosnap", "(install|put|add) {pkgs} to {snap}", [A("install", packages="$pkgs", snapshot="$snap")], 5)
fam("inst2-mention2", "(i'd like|can i get|please get me|i want) {mention}", [A("install", packages="$mention")], 8)
fam("inst2-mention3", "(install|add|set up) {mention} (in|on|to) {snap}", [A("install", packages="$mention", snapshot="$snap")], 6)
fam("inst2-missing3", "(i need|get me|put) {missing} (on my system|please)", [A("clarify")], 5, intents=["install"])
fam("inst2-getme-latest", "get me the (latest|newest) {pkg}", [A("install", packages="$pkg")], 4)
fam("inst2-want-have", "i want to have {pkgs} installed{in}", [A("install", packages="$pkgs", snapshot="$in")], 4)
fam("inst2-add-it-there", "add {pkgs} there", [A("install", packages="$pkgs", snapshot="new")], 3, chain="then")
fam("inst2-put-it", "put {pkgs} (in|into|on) it", [A("install", packages="$pkgs", snapshot="new")], 4, chain="then")

# remove
fam("rm2-forme", "(please )?uninstall {pkgs} for me", [A("remove", packages="$pkgs")], 5)
fam("rm2-mustgo", "{pkg} (must|has to|needs to|can) go", [A("remove", packages="$pkg")], 5)
fam("rm2-getoff", "get {pkgs} off (my system|this machine|the computer|{snap})", [A("remove", packages="$pkgs")], 5)
fam("rm2-theapp", "(remove|uninstall|delete) the {pkg} (app|program|tool|application)", [A("remove", packages="$pkg")], 5)
fam("rm2-done", "i'm (done|finished) with {pkg}, (remove|uninstall|delete) it", [A("remove", packages="$pkg")], 5)
fam("rm2-slang", "(lose|ditch|scrap|axe|nuke|zap|bin) {pkgs}", [A("remove", packages="$pkgs")], 6)
fam("rm2-wipeout", "(wipe out|clear out|strip out|rip out) {pkgs}{from}", [A("remove", packages="$pkgs", snapshot="$from")], 5)
fam("rm2-deletefrom", "delete {pkgs} from (the|my) system", [A("remove", packages="$pkgs")], 5)
fam("rm2-snapdoesnt", "{snap} (doesn't|does not) need {pkgs}( anymore)?", [A("remove", packages="$pkgs", snapshot="$snap")], 5)
fam("rm2-clear", "(clear|strip|drop) {pkgs} (out of|from) {snap}", [A("remove", packages="$pkgs", snapshot="$snap")], 5)
fam("rm2-liketo", "i('d| would) like to (remove|uninstall|get rid of) {pkgs}", [A("remove", packages="$pkgs")], 5)
fam("rm2-couldyou", "could you (please )?get rid of {pkg}", [A("remove", packages="$pkg")], 4)
fam("rm2-notneeded", "{pkg} (isn't|is not|is no longer) needed( anymore)?", [A("remove", packages="$pkg")], 5)
fam("rm2-dontuse", "i (don't|do not|never) use {pkg} (anymore|any more)", [A("remove", packages="$pkg")], 5)
fam("rm2-deps", "(remove|uninstall) {pkg} (and|with|along with) its dependencies", [A("remove", packages="$pkg")], 4)
fam("rm2-completely", "(remove|uninstall|purge) {pkg} completely", [A("remove", packages="$pkg")], 4)
fam("rm2-kick", "kick {pkg} out", [A("remove", packages="$pkg")], 3)
fam("rm2-dontwant", "(don't|do not) want {pkg} (anymore|any longer|on this machine)", [A("remove", packages="$pkg")], 4)
fam("rm2-deinstall", "(deinstall|un-install) {pkgs}", [A("remove", packages="$pkgs")], 4)
fam("rm2-nolonger-need", "(no longer|not) needing {pkg}, (remove|drop) it", [A("remove", packages="$pkg")], 3)
fam("rm2-mention", "(drop|get rid of|uninstall) {mention}", [A("remove", packages="$mention")], 5)

# upgrade
fam("up2-alone", "(update|upgrade)", [A("upgrade")], 2)
fam("up2-machine", "(update|upgrade) (my machine|this computer|the os|my pc|the box)", [A("upgrade")], 5)
fam("up2-things", "(upgrade|update) all the things", [A("upgrade")], 2)
fam("up2-getlatest", "(get|grab|fetch) the latest updates{in}", [A("upgrade", snapshot="$in")], 5)
fam("up2-installupdates", "install (all )?(the )?(available |pending )?updates", [A("upgrade")], 5)
fam("up2-keep", "keep (the|my) system up to date", [A("upgrade")], 3)
fam("up2-bringsnap", "bring {snap} (up to the latest versions|up to date|to the newest packages)", [A("upgrade", snapshot="$snap")], 5)
fam("up2-everything-in", "update (everything|all packages|all the packages) (in|on|inside) {snap}", [A("upgrade", snapshot="$snap")], 5)
fam("up2-pkgs-of", "upgrade the packages (of|in|on) {snap}", [A("upgrade", snapshot="$snap")], 5)
fam("up2-current", "make {snap} (current|fresh|up to date)", [A("upgrade", snapshot="$snap")], 4)
fam("up2-allinstalled", "update all (installed|my installed) packages", [A("upgrade")], 4)
fam("up2-systemupdate", "(system update|system upgrade)( please| now)?", [A("upgrade")], 3)
fam("up2-doan", "(do|run|start) an? (update|upgrade)", [A("upgrade")], 4)
fam("up2-time", "time (to|for an) update", [A("upgrade")], 2)
fam("up2-newest", "newest versions of all packages( please)?", [A("upgrade")], 2)
fam("up2-sudo", "sudo pacman -Syu", [A("upgrade")], 1)
fam("up2-fullupgrade", "(full|complete) (upgrade|update)( of the system)?", [A("upgrade")], 3)
fam("up2-upgradeos", "upgrade (the )?(operating system|os|distro|whole thing)", [A("upgrade")], 4)
fam("up2-sec-only", "(only|just) (the )?security (updates|patches|fixes)( please)?{in}", [A("upgrade", security_only=True, snapshot="$in")], 5)
fam("up2-sec-cves", "(fix|patch|address) (the|all) (cves|known cves|open cves)", [A("upgrade", security_only=True)], 4)
fam("up2-sec-vuln", "(patch|fix|update) (the )?(security vulnerabilities|vulnerable packages|security issues) (in|on) {snap}", [A("upgrade", security_only=True, snapshot="$snap")], 5)
fam("up2-sec-advis", "apply (the )?security advisories", [A("upgrade", security_only=True)], 3)
fam("up2-sec-known", "upgrade (the )?packages (that have|with) known vulnerabilities", [A("upgrade", security_only=True)], 4)
fam("up2-sec-updonly", "security updates only", [A("upgrade", security_only=True)], 2)
fam("up2-sec-vulnonly", "upgrade only (the )?vulnerable packages", [A("upgrade", security_only=True)], 3)
fam("up2-sec-holes", "(fix|close|patch) (all )?(the )?(known )?security (holes|issues|problems)", [A("upgrade", security_only=True)], 4)
fam("up2-it", "(update|upgrade) (it|the new one|the clone) (too|as well)?", [A("upgrade", snapshot="new")], 3, chain="then")

# search
fam("se2-lookingfor", "(i'm|i am) looking for {topic}", [A("search", query_any="$topic")], 6)
fam("se2-looking", "looking for {topic}", [A("search", query_any="$topic")], 5)
fam("se2-pkgsfor", "search (the )?packages for {topicword}", [A("search", query_any="$topicword")], 5)
fam("se2-findthat", "find packages (that|which) (can do|handle|are good for) {topicn}", [A("search", query_any="$topicn")], 5)
fam("se2-whatcan", "what can i use for {topicn}", [A("search", query_any="$topicn")], 5)
fam("se2-whatinstall", "what should i install for {topicn}", [A("search", query_any="$topicn")], 5)
fam("se2-showme", "show me (packages|software|programs) for {topicn}", [A("search", query_any="$topicn")], 5)
fam("se2-app", "is there an app for {topicn}", [A("search", query_any="$topicn")], 5)
fam("se2-provide", "which packages (provide|offer|do) {topicn}", [A("search", query_any="$topicn")], 4)
fam("se2-helpfind", "help me find {topic}", [A("search", query_any="$topic")], 5)
fam("se2-doyouhave", "do you have {topic}", [A("search", query_any="$topic")], 4)
fam("se2-anything", "anything for {topicn}", [A("search", query_any="$topicn")], 5)
fam("se2-searchword", "search {topicword}", [A("search", query_any="$topicword")], 4)
fam("se2-related", "packages (related to|about|for|matching) {topicword}", [A("search", query_any="$topicword")], 5)
fam("se2-task-program", "find me a (program|tool|package|app) to {task}", [A("search", query_any="$task")], 6)
fam("se2-task-whatcan", "what can i use to {task}", [A("search", query_any="$task")], 5)
fam("se2-task-anything", "is there anything (to|that can|i can use to) {task}", [A("search", query_any="$task")], 5)
fam("se2-task-need", "i need (something|a program|a tool|software) to {task}", [A("search", query_any="$task")], 5)
fam("se2-task-which", "which (package|program) lets me {task}", [A("search", query_any="$task")], 5)
fam("se2-task-how", "how can i {task}", [A("search", query_any="$task")], 5)
fam("se2-task-somethingfor", "something (for|to) {task}", [A("search", query_any="$task")], 4)
fam("se2-good", "what's a good {topicn}", [A("search", query_any="$topicn")], 5)
fam("se2-best", "(what is|what's) the best {topicn} (on arch|for linux|available)?", [A("search", query_any="$topicn")], 5)
fam("se2-good2", "(any )?good {topicn}( out there| available)?", [A("search", query_any="$topicn")], 4)

# list installed
fam("li2-mypkgs", "(show|list) my packages{in}", [A("list_installed", snapshot="$in")], 5)
fam("li2-whatsinst", "what's installed{in}", [A("list_installed", snapshot="$in")], 5)
fam("li2-allpkgs", "list all (the )?packages{in}", [A("list_installed", snapshot="$in")], 5)
fam("li2-programs", "which (programs|apps|packages) are installed{in}", [A("list_installed", snapshot="$in")], 5)
fam("li2-givelist", "(give me|print|show me) a list of (the )?installed (packages|software)", [A("list_installed")], 4)
fam("li2-software", "what software do i have( installed)?", [A("list_installed")], 3)
fam("li2-present", "is {pkg} (present|on my system|there|on this machine)", [A("list_installed", query="$pkgq")], 5)
fam("li2-dohave", "(do i have|have i got|did i install) {pkg}", [A("list_installed", query="$pkgq")], 6)
fam("li2-checkif", "check (if|whether) {pkg} is installed{in}", [A("list_installed", query="$pkgq", snapshot="$in")], 5)
fam("li2-isinst-snap", "is {pkg} installed (in|on) {snap}", [A("list_installed", query="$pkgq", snapshot="$snap")], 5)
fam("li2-which-filter", "which {filter} packages are installed{in}", [A("list_installed", query="$filter", snapshot="$in")], 5)
fam("li2-matching", "(list|show) installed packages (matching|containing|named like) {filter}", [A("list_installed", query="$filter")], 5)
fam("li2-stuff", "show (me )?all the {filter} stuff (i have|that is) installed", [A("list_installed", query="$filter")], 5)
fam("li2-whathave", "what have i installed{in}", [A("list_installed", snapshot="$in")], 4)
fam("li2-snaphave", "what packages does {snap} have", [A("list_installed", snapshot="$snap")], 5)
fam("li2-pacman-qs", "(pacman -Qs|-Qs) {filter}", [A("list_installed", query="$filter")], 3)
fam("li2-installed-list", "installed packages{in}", [A("list_installed", snapshot="$in")], 3)

# info
fam("in2-tellme", "tell me about {pkg}", [A("info", packages="$pkg")], 6)
fam("in2-tellmore", "tell me more about {pkg}", [A("info", packages="$pkg")], 5)
fam("in2-whats", "what's {pkg}", [A("info", packages="$pkg")], 5)
fam("in2-whatisthe", "what is the {pkg} (package|program|tool)", [A("info", packages="$pkg")], 5)
fam("in2-infoword", "info {pkg}", [A("info", packages="$pkg")], 3)
fam("in2-pkginfo", "(package info|package information|package details) (for|on|about) {pkg}", [A("info", packages="$pkg")], 5)
fam("in2-detailsof", "details (of|on|about) {pkg}", [A("info", packages="$pkg")], 5)
fam("in2-givedetails", "give me (the )?(details|info|information) (on|about|for) {pkg}", [A("info", packages="$pkg")], 5)
fam("in2-knowmore", "i (want|would like) to know more about {pkg}", [A("info", packages="$pkg")], 4)
fam("in2-explain", "explain what {pkg} is", [A("info", packages="$pkg")], 4)
fam("in2-versionis", "what version is {pkg}", [A("info", packages="$pkg")], 4)
fam("in2-versionof", "(what's|what is) the version of {pkg}( in the repos)?", [A("info", packages="$pkg")], 5)
fam("in2-showinfo", "show (me )?(the )?(info|information) (about|on|for) {pkg}", [A("info", packages="$pkg")], 5)
fam("in2-describepkg", "describe {pkg}", [A("info", packages="$pkg")], 4)
fam("in2-lookup", "look up (the )?{pkg}( package)?", [A("info", packages="$pkg")], 4)
fam("in2-gimme", "gimme (the )?(info|details) on {pkg}", [A("info", packages="$pkg")], 4)
fam("in2-whatfor", "what is {pkg} (for|used for|good for)", [A("info", packages="$pkg")], 4)
fam("in2-inrepos", "is {pkg} in the (repos|repositories)", [A("info", packages="$pkg")], 4)
fam("in2-whichrepo", "which (repo|repository) (is {pkg} in|has {pkg})", [A("info", packages="$pkg")], 4)
fam("in2-howlarge", "how (large|big|heavy) is the {pkg} package", [A("info", packages="$pkg")], 4)
fam("in2-depsof", "what are the dependencies of {pkg}", [A("info", packages="$pkg")], 4)
fam("in2-descof", "show me the description of {pkg}", [A("info", packages="$pkg")], 4)
fam("in2-mention", "(tell me about|info on|what is) {mention}", [A("info", packages="$mention")], 5)

# clean unused
fam("cu2-orphans", "(remove|delete|purge|drop) (the )?orphan(ed)? packages{in}", [A("clean_unused", snapshot="$in")], 5)
fam("cu2-notneeded", "get rid of packages that (aren't|are not) needed (anymore|any longer)", [A("clean_unused")], 4)
fam("cu2-nothinguses", "(remove|delete) (the )?(dependencies|packages) nothing (uses|needs) (anymore)?", [A("clean_unused")], 4)
fam("cu2-unusedpkgs", "(uninstall|remove) (all )?unused packages", [A("clean_unused")], 4)
fam("cu2-prune", "prune (the )?unused (dependencies|packages|deps)", [A("clean_unused")], 4)
fam("cu2-cleanupdeps", "(cleanup|clean up|clear out) (the )?(old )?dependencies", [A("clean_unused")], 4)
fam("cu2-droporphans", "drop the orphans (from|in) {snap}", [A("clean_unused", snapshot="$snap")], 4)
fam("cu2-freespace", "free (up )?(some )?space by removing unused packages", [A("clean_unused")], 3)
fam("cu2-asdeps", "remove packages (that were )?installed as dependencies (that are no longer required|nobody needs)", [A("clean_unused")], 3)
fam("cu2-tidy", "tidy up (the )?(unneeded|unused|orphaned) packages", [A("clean_unused")], 4)
fam("cu2-howabout", "(what about|how about) removing the orphans", [A("clean_unused")], 2)

# fix keys
fam("fk2-pacmankey", "(pacman-key|the pacman keyring) is (broken|not working|busted)", [A("fix_keys")], 4)
fam("fk2-repairpk", "(repair|fix) pacman-key", [A("fix_keys")], 2)
fam("fk2-errors", "i get (signature|pgp|gpg|key) errors (from pacman|when installing|when updating)", [A("fix_keys")], 5)
fam("fk2-archkeyring", "(update|refresh|reinstall) the archlinux-keyring", [A("fix_keys")], 3)
fam("fk2-needsfix", "the (keyring|pacman keyring) needs (fixing|a fix|repair)", [A("fix_keys")], 3)
fam("fk2-invalid", "(package )?signatures are (invalid|bad|not valid)", [A("fix_keys")], 3)
fam("fk2-gpgprob", "fix (the )?(gpg|pgp) key (problems|issues|errors)", [A("fix_keys")], 4)
fam("fk2-unknowntrust", "pacman (keeps saying|says) (the )?signature is unknown trust", [A("fix_keys")], 3)
fam("fk2-insnap", "fix (the )?(pacman )?keys (in|of) {snap}", [A("fix_keys", snapshot="$snap")], 4)
fam("fk2-expired", "(the )?keys (are|have) expired", [A("fix_keys")], 3)
fam("fk2-reinit", "(reinit|re-init|reinitialize|repopulate) the keyring", [A("fix_keys")], 4)
fam("fk2-corrupted", "fix (the )?corrupted packages", [A("fix_keys")], 3)

# refresh
fam("rf2-mirrors", "(update|sync|refresh) the mirrors", [A("refresh")], 4)
fam("rf2-pacman", "refresh pacman('s databases)?", [A("refresh")], 3)
fam("rf2-fresh", "(download|get|fetch) fresh (package lists|repo data|repository data)", [A("refresh")], 4)
fam("rf2-resync", "resync the (repos|repositories|repository databases|repo databases)", [A("refresh")], 4)
fam("rf2-repolists", "update the (repo|repository) lists", [A("refresh")], 3)
fam("rf2-syy", "(pacman -Syy|-Syy)", [A("refresh")], 2)
fam("rf2-syncdb", "(refresh|reload|update) the sync databases", [A("refresh")], 3)

# tree
fam("tr2-alone", "(tree|show tree|the tree)", [A("tree")], 3)
fam("tr2-listthe", "(list|show me|display) the snapshots", [A("tree")], 4)
fam("tr2-howlook", "(how do|what do) my snapshots look( like)?", [A("tree")], 3)
fam("tr2-hier", "(print|show) the snapshot (hierarchy|layout|structure)", [A("tree")], 4)
fam("tr2-looklike", "what does the (snapshot )?tree look like", [A("tree")], 3)
fam("tr2-parents", "(display|show) all snapshots (and|with) their parents", [A("tree")], 3)
fam("tr2-whichare", "which snapshots are there", [A("tree")], 2)
fam("tr2-whole", "show (me )?the (whole|entire|full) (snapshot )?tree", [A("tree")], 4)
fam("tr2-draw", "draw (me )?the (snapshot )?tree", [A("tree")], 3)

# current
fam("cur2-this", "(which|what) snapshot is this", [A("current")], 3)
fam("cur2-currently", "which snapshot is currently (running|booted|in use|active)", [A("current")], 4)
fam("cur2-running", "what am i (running|booted into)( right now)?", [A("current")], 4)
fam("cur2-bootednow", "what is booted (right )?now", [A("current")], 3)
fam("cur2-didboot", "which snapshot did i boot( into)?", [A("current")], 3)
fam("cur2-active", "show me which snapshot is (active|live|current)", [A("current")], 3)
fam("cur2-number", "tell me the current snapshot('s)? (number|id)", [A("current")], 3)
fam("cur2-whichone", "which one am i (on|booted into|using)( right now)?", [A("current")], 4)

# new tree
fam("nt2-alone", "(new tree|new base tree)", [A("new_tree")], 2)
fam("nt2-root", "(start|create|make) a new root( tree)?", [A("new_tree")], 3)
fam("nt2-emptytree", "(make|create) a new empty tree", [A("new_tree")], 3)
fam("nt2-begin", "begin a fresh tree from (the )?base", [A("new_tree")], 3)
fam("nt2-cleanbase", "give me a (clean|fresh) base snapshot", [A("new_tree")], 3)
fam("nt2-frombase", "create a fresh snapshot from the base( snapshot)?", [A("new_tree")], 3)

# clone
fam("cl2-forme", "(please )?clone {snap} for me", [A("clone", snapshot="$snap")], 4, chain="first")
fam("cl2-outof", "make a new snapshot out of {snap}", [A("clone", snapshot="$snap")], 4, chain="first")
fam("cl2-into-new", "copy {snap} (into|to) a new (snapshot|tree)", [A("clone", snapshot="$snap")], 5, chain="first")
fam("cl2-dup-tree", "duplicate {snap} as a new tree", [A("clone", snapshot="$snap")], 4, chain="first")
fam("cl2-createclone", "create a (clone|duplicate|copy) of {snap}", [A("clone", snapshot="$snap")], 5, chain="first")
fam("cl2-iwantcopy", "i (want|need) a (copy|clone) of {snap}", [A("clone", snapshot="$snap")], 4, chain="first")
fam("cl2-take", "take a copy of {snap}", [A("clone", snapshot="$snap")], 3, chain="first")
fam("cl2-now", "clone {snap} (please|now|right away)", [A("clone", snapshot="$snap")], 4, chain="first")
fam("cl2-replicate", "(replicate|cloen) {snap}", [A("clone", snapshot="$snap")], 3, chain="first")

# clone tree
fam("ct2-treeof", "clone the (whole )?tree of {snap}", [A("clone_tree", snapshot="$snap")], 4, chain="first")
fam("ct2-branchunder", "copy the (whole|entire) branch (under|below|at) {snap}", [A("clone_tree", snapshot="$snap")], 4, chain="first")
fam("ct2-below", "duplicate {snap} and everything (below|beneath|under) it", [A("clone_tree", snapshot="$snap")], 4, chain="first")
fam("ct2-descendants", "clone {snap} (together )?with (all )?its descendants", [A("clone_tree", snapshot="$snap")], 4, chain="first")
fam("ct2-recursive", "(make a )?recursive (clone|copy) of {snap}", [A("clone_tree", snapshot="$snap")], 4, chain="first")
fam("ct2-entire", "copy the entire subtree (of|under) {snap}", [A("clone_tree", snapshot="$snap")], 3, chain="first")
fam("ct2-everything", "clone everything (under|below) {snap}", [A("clone_tree", snapshot="$snap")], 4, chain="first")
fam("ct2-along", "copy {snap} along with (all )?(of )?its children", [A("clone_tree", snapshot="$snap")], 4, chain="first")

# branch
fam("br2-from", "branch (from|off|off of) {snap}", [A("branch", snapshot="$snap")], 4, chain="first")
fam("br2-newbranch", "(a )?new branch (off|from|of) {snap}", [A("branch", snapshot="$snap")], 4, chain="first")
fam("br2-makechild", "make a (new )?child of {snap}", [A("branch", snapshot="$snap")], 4, chain="first")
fam("br2-childunder", "create a child snapshot (under|of|below) {snap}", [A("branch", snapshot="$snap")], 4, chain="first")
fam("br2-startat", "start a new branch (at|from) {snap}", [A("branch", snapshot="$snap")], 4, chain="first")
fam("br2-addto", "add a (branch|child) (to|under|below) {snap}", [A("branch", snapshot="$snap")], 4, chain="first")
fam("br2-forknew", "fork a new snapshot (from|off) {snap}", [A("branch", snapshot="$snap")], 3, chain="first")
fam("br2-spawn", "spawn a (new )?child (of|from) {snap}", [A("branch", snapshot="$snap")], 3, chain="first")
fam("br2-fresh", "make a fresh branch (off|from) {snap}", [A("branch", snapshot="$snap")], 3, chain="first")

# clone branch
fam("cb2-itssibling", "clone {snap} as its (own )?sibling", [A("clone_branch", snapshot="$snap")], 3, chain="first")
fam("cb2-samelevel", "copy {snap} (to|at) the same level", [A("clone_branch", snapshot="$snap")], 3, chain="first")
fam("cb2-itsparent", "clone {snap} under its (own )?parent", [A("clone_branch", snapshot="$snap")], 3, chain="first")
fam("cb2-besideit", "make a copy of {snap} (beside|next to) it", [A("clone_branch", snapshot="$snap")], 3, chain="first")
fam("cb2-cmd", "(cbranch|clone-branch) {snap}", [A("clone_branch", snapshot="$snap")], 2, chain="first")
fam("cb2-dupsib", "duplicate {snap} as a sibling", [A("clone_branch", snapshot="$snap")], 3, chain="first")
fam("cb2-sibclone", "(a )?sibling (clone|copy) of {snap}", [A("clone_branch", snapshot="$snap")], 3, chain="first")
fam("cb2-makesib", "make {snap} a sibling( clone| copy)?", [A("clone_branch", snapshot="$snap")], 3, chain="first")

# clone under
fam("cun2-sits", "copy {snap} so (that )?it (sits|lives|ends up) (below|under) {snap2}", [A("clone_under", snapshot="$snap", parent="$snap2")], 4, chain="first")
fam("cun2-move", "(move|put) a (copy|clone) of {snap} (under|below) {snap2}", [A("clone_under", snapshot="$snap", parent="$snap2")], 4, chain="first")
fam("cun2-childof", "clone {snap} to be a child of {snap2}", [A("clone_under", snapshot="$snap", parent="$snap2")], 3, chain="first")
fam("cun2-underfirst", "under {snap2}(,)? (clone|copy) {snap}", [A("clone_under", snapshot="$snap", parent="$snap2")], 4, chain="first")
fam("cun2-beneath", "put a clone of {snap} beneath {snap2}", [A("clone_under", snapshot="$snap", parent="$snap2")], 3, chain="first")

# deploy
fam("dp2-please", "deploy {snap} (please|now)", [A("deploy", snapshot="$snap")], 4, chain="any")
fam("dp2-asdefault", "set {snap} as (the )?default", [A("deploy", snapshot="$snap")], 4, chain="any")
fam("dp2-activate", "activate {snap}", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp2-nextboot", "(the )?next boot should (use|start) {snap}", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp2-bootsnap", "boot {snap}", [A("deploy", snapshot="$snap")], 4, chain="any")
fam("dp2-usenext", "use {snap} (the )?next time i boot", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp2-switchover", "switch over to {snap}", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp2-reboot", "reboot into {snap}", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp2-rollout", "roll out {snap}", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp2-startfrom", "make the (system|machine) (start|boot) from {snap}", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp2-setdefault", "set the default (snapshot|deployment) to {snap}", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp2-gowith", "go with {snap} from the next boot( on)?", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp2-change", "change the (boot|default) snapshot to {snap}", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp2-current", "deploy (the current snapshot|this snapshot|the one i'm on)", [A("deploy")], 3)
fam("dp2-it", "(activate it|use it from the next boot|switch to it)", [A("deploy", snapshot="new")], 3, chain="then")

# rollback
fam("rb2-alone", "(rollback|roll back|undo)( please)?", [A("rollback")], 3)
fam("rb2-goback", "go back( please)?", [A("rollback")], 2)
fam("rb2-takeme", "take me back to the (previous|last|old) (deployment|system|snapshot)", [A("rollback")], 4)
fam("rb2-revertlast", "revert the last (deployment|deploy|update)", [A("rollback")], 3)
fam("rb2-brokenafter", "the system is broken after the (update|upgrade), (go back|roll back|revert)", [A("rollback")], 3)
fam("rb2-something", "something broke, (roll back|go back|revert)", [A("rollback")], 3)
fam("rb2-oldsys", "back to the (old|previous) (system|deployment)", [A("rollback")], 3)
fam("rb2-restoreprev", "restore the (previous|old) (system|setup|state)", [A("rollback")], 3)
fam("rb2-undomy", "undo my last (deploy|deployment|upgrade)", [A("rollback")], 3)
fam("rb2-wantold", "i want (my|the) (old|previous) (deployment|system) back", [A("rollback")], 4)
fam("rb2-bootprev", "boot the previous deployment again", [A("rollback")], 2)
fam("rb2-lastgood", "(return|get back) to the last (good|working) (snapshot|deployment)", [A("rollback")], 4)
fam("rb2-lastupgrade", "my last (upgrade|update) broke things, (undo it|revert it|roll it back)", [A("rollback")], 3)
fam("rb2-bad", "that (update|upgrade|deployment) was bad, (revert|undo it|go back)", [A("rollback")], 3)
fam("rb2-rollitback", "roll it back", [A("rollback")], 1)
fam("rb2-worked", "(revert|go back) to the (snapshot|deployment|one) that worked", [A("rollback")], 3)

# delete
fam("de2-please", "delete {snapx} please", [A("delete", snapshot="$snapx")], 4, chain="any")
fam("de2-fromtree", "remove {snapx} from the tree", [A("delete", snapshot="$snapx")], 4, chain="any")
fam("de2-cango", "{snapx} (can go|is not needed anymore|isn't needed), (delete|remove) it", [A("delete", snapshot="$snapx")], 4)
fam("de2-throw", "throw {snapx} away", [A("delete", snapshot="$snapx")], 3, chain="any")
fam("de2-kill", "(kill|purge|scrap|axe) {snapx}", [A("delete", snapshot="$snapx")], 4, chain="any")
fam("de2-iwant", "i (want|would like) to (delete|remove) {snapx}", [A("delete", snapshot="$snapx")], 4, chain="any")
fam("de2-treeat", "(delete|remove|wipe) the tree (at|of) {snap}", [A("delete", snapshot="$snap")], 4, chain="any")
fam("de2-del", "(del|rm-snapshot) {snap}", [A("delete", snapshot="$snap")], 3, chain="any")
fam("de2-children", "delete {snapx} (and|with) (all )?its children", [A("delete", snapshot="$snapx")], 3, chain="any")
fam("de2-nuke", "nuke {snapx}", [A("delete", snapshot="$snapx")], 3, chain="any")

# describe
fam("ds2-setlabel", "set the (label|name|description) of {snap} to {text}", [A("describe", snapshot="$snap", text_any="$text")], 4, chain="any")
fam("ds2-shouldbe", "{snap} should be (called|named|labelled) {text}", [A("describe", snapshot="$snap", text_any="$text")], 4, chain="any")
fam("ds2-annotate", "annotate {snap} with {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds2-note", "add the note {text} to {snap}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds2-tag", "tag {snap} {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds2-giveadesc", "give {snap} a (description|label|name)(:)? {text}", [A("describe", snapshot="$snap", text_any="$text")], 4, chain="any")
fam("ds2-relabel", "relabel {snap} (as|to) {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds2-callquote", "call {snap} \"{text}\"", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds2-desc", "desc {snap} {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds2-renamebare", "rename {snap} {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds2-changedesc", "change {snap}'s (description|label|name) to {text}", [A("describe", snapshot="$snap", text_any="$text")], 4, chain="any")
fam("ds2-it", "(describe it as|mark it as|give it the label) {text}", [A("describe", snapshot="new", text_any="$text")], 3, chain="then")

# run
fam("run2-on", "run {cmd} on {snap}", [A("run", snapshot="$snap", command_any="$cmd")], 4)
fam("run2-inexec", "in {snap} execute {cmd}", [A("run", snapshot="$snap", command_any="$cmd")], 4)
fam("run2-insideof", "execute {cmd} inside of {snap}", [A("run", snapshot="$snap", command_any="$cmd")], 3)
fam("run2-please", "please run {cmd} in {snap}", [A("run", snapshot="$snap", command_any="$cmd")], 4)
fam("run2-thecommand", "run the command {cmd} (in|inside) {snap}", [A("run", snapshot="$snap", command_any="$cmd")], 4)
fam("run2-insidecomma", "inside {snap}, (run|execute) {cmd}", [A("run", snapshot="$snap", command_any="$cmd")], 4)

# sync
fam("sy2-children", "sync {snap}'s children", [A("sync", snapshot="$snap")], 3)
fam("sy2-updatechildren", "update the children of {snap} with its packages", [A("sync", snapshot="$snap")], 3)
fam("sy2-match", "make the children of {snap} match it", [A("sync", snapshot="$snap")], 3)
fam("sy2-cmd", "(tree-sync|tree sync) {snap}", [A("sync", snapshot="$snap")], 2)
fam("sy2-under", "sync everything (under|below) {snap}", [A("sync", snapshot="$snap")], 3)
fam("sy2-branches", "sync the (branches|subtree|children) of {snap}", [A("sync", snapshot="$snap")], 4)
fam("sy2-descendants", "push {snap}'s packages (to|into) its descendants", [A("sync", snapshot="$snap")], 3)
fam("sy2-pkgset", "push the package set of {snap} (down )?to its children", [A("sync", snapshot="$snap")], 3)

# etc update
fam("eu2-bare", "(save|commit|keep) /etc", [A("etc_update")], 3)
fam("eu2-edits", "(keep|save|commit) my (config|configuration|/etc|etc) edits", [A("etc_update")], 4)
fam("eu2-into", "write my /etc (edits|changes) into the (current )?snapshot", [A("etc_update")], 3)
fam("eu2-persist", "persist the (configuration|config) changes", [A("etc_update")], 3)
fam("eu2-permanent", "make (the|my) /etc changes permanent", [A("etc_update")], 3)
fam("eu2-cmd", "etc-update", [A("etc_update")], 1)
fam("eu2-configfiles", "save the changes i made to the (config|configuration) files", [A("etc_update")], 3)
fam("eu2-store", "store my /etc (modifications|changes|edits)", [A("etc_update")], 3)
fam("eu2-edited", "i (edited|changed) (some files in )?/etc, (save|commit|keep) (it|them)", [A("etc_update")], 4)
fam("eu2-commitwhat", "commit what i changed in /etc", [A("etc_update")], 2)

# diff
fam("df2-bare", "diff {snap} {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 4)
fam("df2-whatsdiff", "what's the difference between {snap} and {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 4)
fam("df2-howdifferent", "how is {snap} different from {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 4)
fam("df2-from-to", "(differences|changes) from {snap} to {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 4)
fam("df2-didchange", "what did i change between {snap} and {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 3)
fam("df2-added", "which packages were (added|removed|changed) between {snap} and {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 4)
fam("df2-vs", "{snap} (vs|versus) {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 3)
fam("df2-contrast", "contrast {snap} (with|and) {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 3)
fam("df2-differ", "do {snap} and {snap2} differ", [A("diff", snapshots=["$snap", "$snap2"])], 3)

# backups
fam("bc2-everything", "(back up|backup) everything( now)?", [A("backup_create")], 3)
fam("bc2-makeof", "make a backup of {snap}", [A("backup_create", snapshot="$snap")], 4, chain="any")
fam("bc2-savecloud", "(save|upload|push) {snap} to (the cloud|s3|my bucket|offsite storage)", [A("backup_create", snapshot="$snap")], 4, chain="any")
fam("bc2-offsite", "create an (offsite|off-site|encrypted|remote) backup", [A("backup_create")], 3)
fam("bc2-current", "back up the current snapshot", [A("backup_create")], 2)
fam("bc2-sendto", "send a backup of {snap} to {target}", [A("backup_create", snapshot="$snap")], 3)
fam("bc2-iwant", "i want to (back up|backup) {snap}", [A("backup_create", snapshot="$snap")], 3, chain="any")
fam("bc2-run", "(run|start|kick off) a backup( now)?", [A("backup_create")], 3)
fam("bc2-systems3", "(backup|back up) the system to (s3|the cloud|azure|gcs)", [A("backup_create")], 3)
fam("bc2-storecopy", "store a copy of {snap} (offsite|in the cloud)", [A("backup_create", snapshot="$snap")], 3, chain="any")
fam("bc2-encryptupload", "encrypt and upload {snap}", [A("backup_create", snapshot="$snap")], 3, chain="any")
fam("bc2-takenow", "take a backup (right )?now", [A("backup_create")], 2)
fam("bc2-backitup", "back it up", [A("backup_create")], 1)
fam("bl2-show", "(show|list) (the |my )?backups (in|at|on) {target}", [A("backup_list")], 3)
fam("bl2-my", "(my backups|show backups|backups)", [A("backup_list")], 3)
fam("bl2-exist", "what backups (exist|have i got|are stored)", [A("backup_list")], 3)
fam("bl2-whathave", "what have i backed up", [A("backup_list")], 2)
fam("bl2-anyb", "do i have any backups", [A("backup_list")], 2)
fam("bl2-showlist", "show me the (list of )?backups", [A("backup_list")], 3)
fam("bl2-whichsnaps", "which snapshots are backed up", [A("backup_list")], 2)
fam("bl2-lastrun", "when did the last backup (run|happen)", [A("backup_list")], 2)
fam("bl2-howmany", "how many backups do i have", [A("backup_list")], 2)
fam("bl2-space", "how much (space|storage) do (my )?backups (use|take)", [A("backup_list")], 3)
fam("bv2-verify", "verify (my |the |all )?backups", [A("backup_verify")], 3)
fam("bv2-integrity", "check the integrity of (my |the )?backups", [A("backup_verify")], 3)
fam("bv2-anygood", "are my backups (any good|usable|ok|okay)", [A("backup_verify")], 3)
fam("bv2-canrestore", "make sure (the|my) backups can be restored", [A("backup_verify")], 3)
fam("bv2-latestok", "is (my|the) latest backup (ok|okay|fine|intact)", [A("backup_verify")], 3)
fam("bv2-validate", "validate (the|my) backups", [A("backup_verify")], 2)
fam("bv2-corruption", "check (the )?backups for (corruption|damage|errors)", [A("backup_verify")], 3)
fam("bv2-healthy", "are (my|the) backups (healthy|working|valid)", [A("backup_verify")], 3)
fam("bp2-prune", "prune (my |the )?backups", [A("backup_prune")], 3)
fam("bp2-olderthan", "(remove|delete) backups older than (30|90|60) days", [A("backup_prune")], 3)
fam("bp2-outdated", "get rid of (the )?(outdated|expired|old) backups", [A("backup_prune")], 3)
fam("bp2-enforce", "(apply|enforce|run) (the )?retention( policy)?", [A("backup_prune")], 3)
fam("bp2-freespace", "free (up )?space by pruning (old )?backups", [A("backup_prune")], 2)
fam("bp2-tooold", "delete backups that are too old", [A("backup_prune")], 2)
fam("br2-frombackup", "restore {snap} from (a|the) backup", [A("backup_restore", snapshot="$snap")], 4)
fam("br2-mybackup", "restore my backup of {snap}", [A("backup_restore", snapshot="$snap")], 3)
fam("br2-getback", "get {snap} back from (the|my) backups", [A("backup_restore", snapshot="$snap")], 3)
fam("br2-recovercloud", "recover {snap} from (the cloud|s3|offsite)", [A("backup_restore", snapshot="$snap")], 3)
fam("br2-bringback", "bring {snap} back from (s3|the cloud|the backup bucket)", [A("backup_restore", snapshot="$snap")], 3)
fam("br2-lost", "i lost {snap}, restore it from the backup", [A("backup_restore", snapshot="$snap")], 3)
fam("br2-pull", "pull {snap} back from the backups", [A("backup_restore", snapshot="$snap")], 3)
fam("br2-thebackupof", "restore the backup of {snap}", [A("backup_restore", snapshot="$snap")], 3)

# config search
fam("cs2-wheres", "where's {setting} (set|configured|defined)", [A("config_search", query_any="$setting")], 4)
fam("cs2-wheredoi", "where do i (configure|change|set) {setting}", [A("config_search", query_any="$setting")], 4)
fam("cs2-whichhas", "which (file|config file) (has|contains|holds) {setting}", [A("config_search", query_any="$setting")], 4)
fam("cs2-findwhere", "find where {setting} is (configured|set|defined)", [A("config_search", query_any="$setting")], 4)
fam("cs2-inwhich", "in which file is {setting} (set|configured)", [A("config_search", query_any="$setting")], 3)
fam("cs2-lookup", "look up {setting} in (/etc|the config|my configuration)", [A("config_search", query_any="$setting")], 3)
fam("cs2-searchconfig", "search (the|my) (config|configuration|config files) for {setting}", [A("config_search", query_any="$setting")], 4)
fam("cs2-controls", "what file (controls|sets|configures) {setting}", [A("config_search", query_any="$setting")], 3)
fam("cs2-findline", "find the (line|setting|entry) that (sets|configures|controls) {setting}", [A("config_search", query_any="$setting")], 3)
fam("cs2-inmyconfig", "where is {setting} in my (config|configuration|/etc)", [A("config_search", query_any="$setting")], 3)
fam("cs2-howdid", "how did i configure {setting}", [A("config_search", query_any="$setting")], 3)
fam("cs2-whatsmy", "what('s| is) my {settingn}( set to)?", [A("config_search", query_any="$settingn")], 4)
fam("cs2-grep", "grep (the config|/etc|my config) for {cfgword}", [A("config_search", query_any="$cfgword")], 3)
fam("cs2-cfgword", "where is {cfgword} (set|defined|configured)", [A("config_search", query_any="$cfgword")], 4)

# out of scope, including computer requests rast does not do
fam("oos2", "{oos2}", [A("clarify")], 60, intents=["clarify"])

# compositions
fam("comp2-setup-copy", "(set up|put) {pkgs} in a fresh (copy|clone) of {snap}", [A("clone", snapshot="$snap"), A("install", packages="$pkgs", snapshot="new")], 4, intents=["install"])
fam("comp2-try", "try {pkg} in a new (clone|copy) of {snap}", [A("clone", snapshot="$snap"), A("install", packages="$pkg", snapshot="new")], 4, intents=["install"])
fam("comp2-branch", "put {pkgs} into a new (branch|child) of {snap}", [A("branch", snapshot="$snap"), A("install", packages="$pkgs", snapshot="new")], 4, intents=["install"])
fam("comp2-rm", "get rid of {pkgs} in a (new )?copy of {snap}", [A("clone", snapshot="$snap"), A("remove", packages="$pkgs", snapshot="new")], 3, intents=["remove"])
fam("comp2-on", "install {pkg} on a (new )?clone of {snap}", [A("clone", snapshot="$snap"), A("install", packages="$pkg", snapshot="new")], 3, intents=["install"])

# ---------------------------------------------------------------- a third round of families:
# indirect ("is it possible to…", "how do i…"), problem statements, questions, terse forms.

# install
fam("inst3-possible", "is it possible to (install|get|add) {pkg}{in}", [A("install", packages="$pkg", snapshot="$in")], 4)
fam("inst3-howdoi-snap", "how (do|can) i (install|add|get) {pkg} (in|on|into) {snap}", [A("install", packages="$pkg", snapshot="$snap")], 4)
fam("inst3-wannahave", "i (wanna|want to|would like to) (install|get|grab) {pkgs}", [A("install", packages="$pkgs")], 5)
fam("inst3-require", "i (require|need to have|must have) {pkgs}{in}", [A("install", packages="$pkgs", snapshot="$in")], 4)
fam("inst3-gotta", "(gotta|got to|have to) (have|install|get) {pkg}", [A("install", packages="$pkg")], 4)
fam("inst3-missing", "{pkg} (is missing|isn't installed|is not on this machine)(,)? (please )?(install|add) it", [A("install", packages="$pkg")], 4)
fam("inst3-both", "install both {pkg} and {pkg2}", [A("install", packages=["$pkgv", "$pkg2v"])], 4)
fam("inst3-current", "install {pkgs} (in|on|into) (the current snapshot|this snapshot|the running snapshot)", [A("install", packages="$pkgs")], 4)
fam("inst3-thissystem", "(install|add) {pkgs} (on|to) this (system|machine|box|computer)", [A("install", packages="$pkgs")], 4)
fam("inst3-wouldbe", "(installing|adding) {pkg} would be (great|nice|good)", [A("install", packages="$pkg")], 3)
fam("inst3-really", "i would really (like|love) {pkg}", [A("install", packages="$pkg")], 3)
fam("inst3-for", "i need {pkg} (for work|for school|for my project|to work)", [A("install", packages="$pkg")], 4)
fam("inst3-iwanttoinstall", "i want to install {pkgs}{in}", [A("install", packages="$pkgs", snapshot="$in")], 5)
fam("inst3-pleaseput", "please put {pkgs} (on|in|into) {snap}", [A("install", packages="$pkgs", snapshot="$snap")], 4)
fam("inst3-addpls", "add {pkgs} pls", [A("install", packages="$pkgs")], 3)

# remove
fam("rm3-possible", "is it possible to (remove|uninstall) {pkg}", [A("remove", packages="$pkg")], 3)
fam("rm3-howdoi", "how (do|can) i (remove|uninstall|get rid of) {pkg}", [A("remove", packages="$pkg")], 4)
fam("rm3-notusing", "i'm not using {pkg}( anymore)?, (remove|uninstall|drop) it", [A("remove", packages="$pkg")], 4)
fam("rm3-nouse", "i have no (use|need) for {pkg}( anymore)?", [A("remove", packages="$pkg")], 4)
fam("rm3-gone", "i('d like| want) {pkg} gone", [A("remove", packages="$pkg")], 3)
fam("rm3-getout", "get {pkg} out of (the system|{snap}|this machine)", [A("remove", packages="$pkg")], 4)
fam("rm3-both", "(remove|uninstall) both {pkg} and {pkg2}", [A("remove", packages=["$pkgv", "$pkg2v"])], 3)
fam("rm3-wanttoremove", "i want to (remove|uninstall|delete) {pkgs}{from}", [A("remove", packages="$pkgs", snapshot="$from")], 5)
fam("rm3-pleasetake", "please take {pkgs} off {snap}", [A("remove", packages="$pkgs", snapshot="$snap")], 4)
fam("rm3-uninstallpls", "uninstall {pkgs} pls", [A("remove", packages="$pkgs")], 3)
fam("rm3-unwanted", "{pkg} is (unwanted|useless|bloat)(,)? (remove|uninstall|drop) it", [A("remove", packages="$pkg")], 3)
fam("rm3-thesystem", "(remove|uninstall) {pkgs} from this (system|machine|box|computer)", [A("remove", packages="$pkgs")], 4)
fam("rm3-takeoff", "take off {pkgs}", [A("remove", packages="$pkgs")], 3)

# upgrade
fam("up3-please", "please (update|upgrade)( everything| the system)?", [A("upgrade")], 3)
fam("up3-canyou", "can you (update|upgrade) (everything|the packages|all packages|my system)", [A("upgrade")], 4)
fam("up3-outdated", "(my system|everything|the system) is (outdated|out of date|old), (update|upgrade) it", [A("upgrade")], 4)
fam("up3-pending", "are there (pending|new|any) updates( for me)?", [A("upgrade")], 3)
fam("up3-letsdo", "let's (do|run) a (system )?(upgrade|update)", [A("upgrade")], 3)
fam("up3-snap-please", "please (upgrade|update) {snap}", [A("upgrade", snapshot="$snap")], 4)
fam("up3-newest-snap", "get the newest versions (in|for) {snap}", [A("upgrade", snapshot="$snap")], 3)
fam("up3-sec-want", "i (only )?want (the )?security (updates|patches|fixes)( only)?", [A("upgrade", security_only=True)], 4)
fam("up3-sec-question", "are there security (updates|fixes)(,)? (install|apply) them", [A("upgrade", security_only=True)], 3)
fam("up3-sec-cve", "(only )?upgrade (the )?packages (with|that have) (a )?(cve|cves|security advisory)", [A("upgrade", security_only=True)], 4)
fam("up3-sec-vuln", "(fix|patch) (the )?vulnerab(le packages|ilities)( please)?", [A("upgrade", security_only=True)], 3)

# search
fam("se3-know", "do you know (a|any|some) (good )?{topicn}", [A("search", query_any="$topicn")], 4)
fam("se3-after", "i'm after (a|some) {topicn}", [A("search", query_any="$topicn")], 3)
fam("se3-whatsavail", "what('s| is) available for {topicn}", [A("search", query_any="$topicn")], 4)
fam("se3-whichreads", "which (package|program|app) (can|could) {task}", [A("search", query_any="$task")], 4)
fam("se3-packagesthat", "(packages|programs|software) (that|which) (can )?{task}", [A("search", query_any="$task")], 4)
fam("se3-searchcolon", "search: {topicn}", [A("search", query_any="$topicn")], 3)
fam("se3-toolsfor", "(which|what) tools are there for {topicn}", [A("search", query_any="$topicn")], 4)
fam("se3-wouldrec", "what would you (recommend|suggest) for {topicn}", [A("search", query_any="$topicn")], 4)
fam("se3-lookfor-task", "look for something (that can|to) {task}", [A("search", query_any="$task")], 3)
fam("se3-searchpkgs-for", "search (for )?packages (for|to) {task}", [A("search", query_any="$task")], 3)

# list installed
fam("li3-ison", "is {pkg} on (this|the|my) (machine|system|computer|box)", [A("list_installed", query="$pkgq")], 4)
fam("li3-haveinstalled", "have i (installed|got) {pkg}( installed)?", [A("list_installed", query="$pkgq")], 4)
fam("li3-didi", "did i (ever )?install {pkg}( already)?", [A("list_installed", query="$pkgq")], 4)
fam("li3-isthere", "is {pkg} (already )?installed( here)?", [A("list_installed", query="$pkgq")], 4)
fam("li3-anyfilter", "(any|are there any) {filter} packages installed", [A("list_installed", query="$filter")], 4)
fam("li3-filteronsys", "which {filter} packages are on (this|my) system", [A("list_installed", query="$filter")], 4)
fam("li3-modules", "what {filter} (modules|libraries|stuff) do i have", [A("list_installed", query="$filter")], 4)
fam("li3-showall-kde", "show (me )?all (the )?installed {filter} packages", [A("list_installed", query="$filter")], 4)
fam("li3-whatsin", "what('s| is) installed (in|on) {snap}", [A("list_installed", snapshot="$snap")], 4)
fam("li3-listeverything", "list everything (in|on|inside) {snap}", [A("list_installed", snapshot="$snap")], 4)
fam("li3-snaphas", "what does {snap} have installed", [A("list_installed", snapshot="$snap")], 3)
fam("li3-programs", "what programs are (on|in) (my system|this machine|{snap})", [A("list_installed")], 3)
fam("li3-checkwhether", "(check|see) whether {pkg} is (installed|there)", [A("list_installed", query="$pkgq")], 4)

# info
fam("in3-somethingabout", "tell me (something|a bit|a little) about {pkg}", [A("info", packages="$pkg")], 4)
fam("in3-moreinfo", "more (info|information|details) (on|about) {pkg}( please)?", [A("info", packages="$pkg")], 4)
fam("in3-detailsforthe", "(details|info) for the {pkg} package", [A("info", packages="$pkg")], 4)
fam("in3-whatsfor", "what's {pkg} (for|good for|used for)", [A("info", packages="$pkg")], 3)
fam("in3-whopackages", "who (packages|maintains) {pkg}", [A("info", packages="$pkg")], 3)
fam("in3-whatversionat", "what version is {pkg} at", [A("info", packages="$pkg")], 3)
fam("in3-versionavail", "which version of {pkg} (can i get|is there|do you have)", [A("info", packages="$pkg")], 4)
fam("in3-latestver", "what's the (newest|latest) version of {pkg} (you have|available|in the repos)", [A("info", packages="$pkg")], 4)
fam("in3-showpkg", "show (me )?(the )?{pkg} package", [A("info", packages="$pkg")], 3)
fam("in3-pkgdetails", "{pkg} (details|info|information)", [A("info", packages="$pkg")], 3)

# clean unused
fam("cu3-orph", "(remove|clean|delete|purge) orphans( please)?{in}", [A("clean_unused", snapshot="$in")], 4)
fam("cu3-nobody", "get rid of packages (nobody|no one|nothing) (needs|uses)", [A("clean_unused")], 3)
fam("cu3-deps-notreq", "remove (dependencies|deps) (that are|which are) no longer required", [A("clean_unused")], 3)
fam("cu3-leftover-removed", "remove leftovers (from|of) (removed|uninstalled) packages", [A("clean_unused")], 3)
fam("cu3-clear", "clear out (the )?packages (that )?nothing (requires|needs)", [A("clean_unused")], 3)
fam("cu3-unneeded", "(purge|remove|drop) (the )?unneeded (deps|dependencies|packages){in}", [A("clean_unused", snapshot="$in")], 4)

# fix keys
fam("fk3-pacmankeys", "fix (the )?pacman (keys|keyring|signatures)", [A("fix_keys")], 4)
fam("fk3-gettingerrors", "i'm getting (invalid signature|key|gpg|pgp) errors", [A("fix_keys")], 4)
fam("fk3-lookedup", "pacman says (the )?key could not be (looked up|imported|verified)", [A("fix_keys")], 3)
fam("fk3-gpgbroken", "the (gpg|pgp|signing) keys are (broken|bad|outdated)", [A("fix_keys")], 3)
fam("fk3-dontverify", "(my )?package signatures (don't|do not|won't) verify", [A("fix_keys")], 3)
fam("fk3-trust", "unknown trust errors(,)? (please )?fix( them| it)?", [A("fix_keys")], 3)

# refresh
fam("rf3-pkglists", "refresh (the )?package lists", [A("refresh")], 3)
fam("rf3-syncdbs", "sync (the )?(package )?databases", [A("refresh")], 3)
fam("rf3-pullnew", "(pull|get|download) (new|the newest|fresh) (package lists|repo databases|package databases)", [A("refresh")], 4)
fam("rf3-index", "(download|refresh) the (latest )?package index", [A("refresh")], 3)

# tree, current, new tree
fam("tr3-howmany", "how many snapshots (are there|do i have)", [A("tree")], 3)
fam("tr3-letsee", "let me see (all )?(the |my )?snapshots", [A("tree")], 3)
fam("tr3-giveme", "give me the (snapshot list|list of snapshots|tree)", [A("tree")], 3)
fam("tr3-showsnaps", "show me my snapshots", [A("tree")], 2)
fam("cur3-using", "which snapshot am i (using|on) (right now|now|currently)", [A("current")], 3)
fam("cur3-tellme", "tell me which snapshot i'm (in|on|running)", [A("current")], 3)
fam("cur3-whatnumber", "what number is the (running|current|booted) snapshot", [A("current")], 3)
fam("cur3-booted", "what snapshot is booted", [A("current")], 2)
fam("nt3-another", "create another tree from (scratch|the base)", [A("new_tree")], 3)
fam("nt3-newempty", "i want a new (empty |fresh )?tree", [A("new_tree")], 3)
fam("nt3-baseplease", "new base snapshot( please)?", [A("new_tree")], 2)
fam("nt3-fromscratch", "start (a tree|fresh|over) from scratch", [A("new_tree")], 3)

# snapshots
fam("cl3-intonew", "clone {snap} into a new (tree|snapshot)", [A("clone", snapshot="$snap")], 4, chain="first")
fam("cl3-current", "(clone|copy|duplicate) (this snapshot|the current snapshot|the current one)", [A("clone")], 3)
fam("cl3-needdup", "i need a (duplicate|copy|clone) of {snap}", [A("clone", snapshot="$snap")], 3, chain="first")
fam("ct3-alldesc", "(clone|copy) {snap} and (all of )?its (children|descendants|subtree)", [A("clone_tree", snapshot="$snap")], 4, chain="first")
fam("ct3-rooted", "clone the tree rooted at {snap}", [A("clone_tree", snapshot="$snap")], 3, chain="first")
fam("ct3-withsub", "duplicate {snap} with its (subtree|children|whole tree)", [A("clone_tree", snapshot="$snap")], 3, chain="first")
fam("br3-childsnap", "make a child snapshot (of|from|under) {snap}", [A("branch", snapshot="$snap")], 3, chain="first")
fam("br3-createbranch", "create a branch (of|from|off) {snap}", [A("branch", snapshot="$snap")], 3, chain="first")
fam("br3-addnewchild", "add a new child (to|under) {snap}", [A("branch", snapshot="$snap")], 3, chain="first")
fam("cb3-samelevel", "duplicate {snap} at the same level", [A("clone_branch", snapshot="$snap")], 3, chain="first")
fam("cb3-nextto", "(clone|copy) {snap} (next to|beside) itself", [A("clone_branch", snapshot="$snap")], 3, chain="first")
fam("cun3-aschild", "(clone|copy) {snap} as a child of {snap2}", [A("clone_under", snapshot="$snap", parent="$snap2")], 3, chain="first")
fam("cun3-intoasachild", "copy {snap} into {snap2} as a child", [A("clone_under", snapshot="$snap", parent="$snap2")], 3, chain="first")
fam("dp3-nextboot", "i want {snap} (on|at) (the )?next boot", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp3-activedep", "make {snap} the (active|live) deployment", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp3-nextreboot", "(the )?next reboot should (go to|use|boot) {snap}", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp3-fromnowon", "(use|boot) {snap} from now on", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("dp3-switchto", "switch to {snap}", [A("deploy", snapshot="$snap")], 3, chain="any")
fam("rb3-broken", "(my system|the system|everything|my desktop|wifi) is broken(,)? (roll back|go back|revert|undo)", [A("rollback")], 4)
fam("rb3-doesntwork", "the new (snapshot|deployment|system) (doesn't|does not|won't) work, (revert|roll back|go back)", [A("rollback")], 3)
fam("rb3-nothingworks", "after the (upgrade|update) nothing works(,)? (undo it|revert|roll back)", [A("rollback")], 3)
fam("rb3-howbefore", "go back to how it was (before|yesterday)", [A("rollback")], 3)
fam("rb3-putback", "put back the (previous|old) (system|deployment)", [A("rollback")], 3)
fam("rb3-mistake", "that (deploy|deployment|upgrade) was a mistake(,)? (go back|revert|undo it)", [A("rollback")], 3)
fam("rb3-broke", "the (update|upgrade) broke (my|the) (wifi|sound|network|graphics|boot)(, (undo|revert) it)?", [A("rollback")], 4)
fam("de3-isntneeded", "{snapx} (isn't|is not) needed( anymore)?, (delete|remove) it", [A("delete", snapshot="$snapx")], 3)
fam("de3-theold", "(delete|remove) the old {snapx}", [A("delete", snapshot="$snapx")], 3, chain="any")
fam("de3-dontneed", "i (don't|do not) need {snapx}( anymore)?", [A("delete", snapshot="$snapx")], 4, chain="any")
fam("de3-trash", "trash {snapx}", [A("delete", snapshot="$snapx")], 3, chain="any")
fam("ds3-shouldbedesc", "{snap} should be described as {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds3-changelabel", "change the (label|description) of {snap} to {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds3-givename", "give {snap} the (name|label) {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds3-annotate", "annotate {snap} (with|as) {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds3-relabel", "relabel {snap} (as|to) {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("ds3-setdesc", "set {snap}'s (description|label) to {text}", [A("describe", snapshot="$snap", text_any="$text")], 3, chain="any")
fam("run3-please", "(please )?run {cmd} (inside|in) {snap} please", [A("run", snapshot="$snap", command_any="$cmd")], 3)
fam("run3-snapcomma", "in {snap}, run {cmd}", [A("run", snapshot="$snap", command_any="$cmd")], 3)
fam("sy3-children", "sync {snap} (to|into|with) its (children|branches)", [A("sync", snapshot="$snap")], 3)
fam("sy3-havepkgs", "make {snap}'s children have its packages", [A("sync", snapshot="$snap")], 3)
fam("sy3-below", "sync {snap} with everything below it", [A("sync", snapshot="$snap")], 3)
fam("eu3-changed", "i changed (files|things|some settings) in /etc, save (them|it)( into the snapshot)?", [A("etc_update")], 3)
fam("eu3-keepchanges", "keep the changes (in|to) /etc", [A("etc_update")], 3)
fam("eu3-saveconfig", "save the (configuration|config) i (edited|changed)", [A("etc_update")], 3)
fam("df3-new", "what's new in {snap} compared to {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 3)
fam("df3-pkgdiffs", "show the package differences between {snap} and {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 3)
fam("df3-compareto", "(compare|diff) {snap} (to|against|with) {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 3)
fam("df3-howcompare", "how does {snap} compare (with|to) {snap2}", [A("diff", snapshots=["$snap", "$snap2"])], 3)

# backups
fam("bc3-makebackup", "(make|create|do) a backup( of the system| now| please)?", [A("backup_create")], 3)
fam("bc3-uploadof", "upload a backup of {snap}", [A("backup_create", snapshot="$snap")], 3, chain="any")
fam("bc3-createcloud", "create a backup of {snap} (in|to) the cloud", [A("backup_create", snapshot="$snap")], 3, chain="any")
fam("bc3-backupsnap", "(back up|backup) {snap}( please| now)?", [A("backup_create", snapshot="$snap")], 3, chain="any")
fam("bl3-whichcloud", "which backups are (in the cloud|on s3|stored)", [A("backup_list")], 3)
fam("bl3-whenlast", "when was (my|the) last backup", [A("backup_list")], 2)
fam("bl3-whatdo", "what backups do i have( in the cloud)?", [A("backup_list")], 3)
fam("bv3-checkthe", "check (the|my) backups", [A("backup_verify")], 2)
fam("bv3-arethe", "are the backups (ok|okay|fine|good)", [A("backup_verify")], 3)
fam("bv3-makesure", "make sure (my|the) backups (work|are ok|are restorable)", [A("backup_verify")], 3)
fam("bv3-testrestore", "test that (my|the) backups can be restored", [A("backup_verify")], 3)
fam("bp3-cleanup", "clean up (the )?(old )?backups", [A("backup_prune")], 3)
fam("bp3-expired", "(remove|delete) (the )?expired backups", [A("backup_prune")], 3)
fam("bp3-retention", "apply the retention policy( to (my|the) backups)?", [A("backup_prune")], 3)
fam("bp3-thin", "thin out (the |my )?(old )?backups", [A("backup_prune")], 3)
fam("br3-latest", "restore the latest backup of {snap}", [A("backup_restore", snapshot="$snap")], 3)
fam("br3-bringback", "bring {snap} back from (my|the) backups", [A("backup_restore", snapshot="$snap")], 3)
fam("br3-getbacks3", "get back {snap} from (s3|the cloud)", [A("backup_restore", snapshot="$snap")], 3)

# config search
fam("cs3-whereset", "where is {setting} set", [A("config_search", query_any="$setting")], 3)
fam("cs3-whereconfig", "where do i configure {setting}", [A("config_search", query_any="$setting")], 3)
fam("cs3-findthe", "find the {settingn}( setting| config)?", [A("config_search", query_any="$settingn")], 3)
fam("cs3-whichconfig", "which config (has|sets) {setting}", [A("config_search", query_any="$setting")], 3)
fam("cs3-whereare", "where are {setting} configured", [A("config_search", query_any="$setting")], 3)
fam("cs3-howset", "how (are|is) (my )?{settingn} set( up)?", [A("config_search", query_any="$settingn")], 3)
fam("cs3-wordwhere", "where('s| is) {cfgword}( set)?", [A("config_search", query_any="$cfgword")], 3)
fam("cs3-findrules", "find the {settingn} (rules|lines|entries)", [A("config_search", query_any="$settingn")], 3)
fam("cs3-whereconf", "where is {cfgword} configured", [A("config_search", query_any="$cfgword")], 3)

# install + a description instead of a name: the install intent, resolved by meaning to
# one package or a question listing the candidates (never a search the user did not ask).
INSTALL_BY_MEANING = [[A("clarify")], [A("install")]]
fam("inst4-something-task", "(install|get me|put|add) (something|a program|a tool|an app|software) (to|that can|which can|for) {task}", INSTALL_BY_MEANING, 8, intents=["install"])
fam("inst4-topic", "(install|add|set up) {topic}", INSTALL_BY_MEANING, 8, intents=["install"])
fam("inst4-topic-snap", "(install|put) {topic} (in|on|into) {snap}", INSTALL_BY_MEANING, 5, intents=["install"])
fam("inst4-want-topic", "i want to install {topic}", INSTALL_BY_MEANING, 5, intents=["install"])
fam("inst4-whatever", "install (whatever|anything) (can|that can|that will) {task}", INSTALL_BY_MEANING, 4, intents=["install"])

# ---------------------------------------------------------------- expansion

PAREN = re.compile(r"\(([^()]*)\)(\?)?")
OPT = re.compile(r"\[([^\[\]]*)\]")


def expand(pattern, rng):
    s = pattern
    while True:
        m = PAREN.search(s)
        if not m:
            break
        pick = rng.choice(m.group(1).split("|"))
        if m.group(2) and rng.random() < 0.5:
            pick = ""
        s = s[: m.start()] + pick + s[m.end():]
    while True:
        m = OPT.search(s)
        if not m:
            break
        choice = rng.choice(m.group(1).split("|")) if rng.random() < 0.5 else ""
        s = s[: m.start()] + choice + s[m.end():]
    return s


class Slots:
    def __init__(self, catalog, rng):
        self.rng = rng
        self.catalog = catalog
        self.popular = [p for p in POPULAR if p in catalog]
        self.all = sorted(catalog)
        self.mentions = [(t, p) for t, p in MENTIONS if p in catalog]

    def pkg_name(self):
        r = self.rng.random()
        return self.rng.choice(self.popular) if r < 0.75 else self.rng.choice(self.all)

    def snap_id(self):
        return self.rng.choice(SNAP_NUMBERS[:12] if self.rng.random() < 0.8 else SNAP_NUMBERS)

    def snap_text(self, n, bare_ok=True):
        forms = ["snapshot {n}", "snapshot {n}", "snapshot {n}", "snap {n}", "#{n}", "snapshot #{n}",
                 "snapshot number {n}", "snapshot no. {n}"]
        if n in NUMBER_WORDS:
            forms += ["snapshot {w}", "snapshot number {w}"]
        if bare_ok:
            forms += ["{n}", "{n}"]
        f = self.rng.choice(forms)
        return f.format(n=n, w=NUMBER_WORDS.get(n, n))

    def fill(self, name, used):
        rng = self.rng
        if name == "pkg":
            p = self.pkg_name()
            return p, [p]
        if name == "pkgq":
            return None, used["pkg"][0]
        if name == "pkg2":
            p = self.pkg_name()
            while p == used.get("pkg", [None])[0]:
                p = self.pkg_name()
            used["pkg2v"] = p
            return p, [p]
        if name == "pkgs":
            k = rng.choice([1, 1, 1, 2, 2, 3])
            names = []
            while len(names) < k:
                p = self.pkg_name()
                if p not in names:
                    names.append(p)
            if k == 1:
                text = names[0]
            elif k == 2:
                text = f"{names[0]} {rng.choice(['and', 'and', 'plus', '&'])} {names[1]}"
            else:
                text = f"{names[0]}, {names[1]}{rng.choice([',', ''])} and {names[2]}"
            return text, names
        if name == "mention":
            t, p = rng.choice(self.mentions)
            return t, [p]
        if name == "missing":
            return rng.choice(MISSING), None
        if name in ("in", "from"):
            if rng.random() < 0.5:
                return "", None
            n = self.snap_id()
            preps = ["in", "to", "into", "on", "inside", "for"] if name == "in" else ["from", "from", "in", "on"]
            return f" {rng.choice(preps)} {self.snap_text(n, bare_ok=False)}", n
        if name in ("snap", "snap2"):
            n = self.snap_id()
            if name == "snap2":
                while n == used.get("snap"):
                    n = self.snap_id()
            return self.snap_text(n), n
        if name == "snapx":  # a snapshot as the object of delete: never a bare number
            n = self.snap_id()
            return self.snap_text(n, bare_ok=False), n
        if name == "text":
            t = rng.choice(DESC_TEXTS)
            return t, [t]
        if name == "cmd":
            c = rng.choice(RUN_CMDS)
            return c, [c]
        if name == "topic":
            t, w = rng.choice(SEARCH_TOPICS)
            return t, [t.split(" ", 1)[1] if t.split(" ")[0] in ("a", "an") else t, w]
        if name == "topicword":
            t, w = rng.choice(SEARCH_TOPICS)
            return w, [w]
        if name == "filter":
            f = rng.choice(LIST_FILTERS)
            return f, f
        if name == "setting":
            t, w = rng.choice(CONFIG_TOPICS)
            return t, [t.replace("the ", "", 1), w]
        if name == "target":
            t = rng.choice(TARGETS)
            return t, t
        if name == "oos":
            return rng.choice(OUT_OF_SCOPE), None
        if name == "oos2":
            return rng.choice(OUT_OF_SCOPE_2), None
        if name == "topicn":
            t, w = rng.choice(SEARCH_TOPICS)
            t = t.split(" ", 1)[1] if t.split(" ")[0] in ("a", "an") else t
            return t, [t, w]
        if name == "task":
            t, w = rng.choice(TASKS)
            return t, [t, w]
        if name == "settingn":
            t, w = rng.choice(CONFIG_TOPICS)
            t = t.replace("the ", "", 1)
            return t, [t, w]
        if name == "cfgfile":
            t, rel = rng.choice(FILE_FORMS)
            return t, "/etc/" + rel
        if name == "cfgword":
            w = rng.choice(CFG_WORDS)
            return w, [w.lower()]
        raise KeyError(name)


SLOT = re.compile(r"\{(\w+)\}")


def render(family, slots):
    text = expand(family["pattern"], slots.rng)
    used = {}
    slot_texts = []
    out = []
    pos = 0
    for m in SLOT.finditer(text):
        out.append(text[pos: m.start()])
        t, v = slots.fill(m.group(1), used)
        used[m.group(1)] = v
        if t and m.group(1) not in ("oos", "oos2", "in", "from", "snap", "snap2", "snapx", "target"):
            slot_texts.append(t.strip())
        out.append(t or "")
        pos = m.end()
    out.append(text[pos:])
    if any("$pkgq" in str(a) for a in family["expect"]):
        used["pkgq"] = used["pkg"][0]
    if "pkg" in used and used["pkg"]:
        used["pkgv"] = used["pkg"][0]
    request = re.sub(r"\s+", " ", "".join(out)).strip()
    request = request.replace(" ,", ",")
    if family["expect"] and isinstance(family["expect"][0], list):
        alts = []
        for alt in family["expect"]:
            alts.append(render_expect(alt, used))
        return request, alts, slot_texts
    return request, render_expect(family["expect"], used), slot_texts


def render_expect(actions, used):
    expect = []
    for a in actions:
        e = {}
        for k, v in a.items():
            if isinstance(v, str) and v.startswith("$"):
                v = used.get(v[1:])
                if v is None:
                    continue
            elif isinstance(v, list):
                v = [used[x[1:]] if isinstance(x, str) and x.startswith("$") else x for x in v]
            e[k] = v
        expect.append(e)
    return expect


TYPO_WORDS = {"install", "uninstall", "remove", "upgrade", "update", "delete", "deploy", "clone",
              "search", "snapshot", "rollback", "backup", "backups", "refresh", "restore", "verify",
              "describe", "branch", "packages", "installed", "label", "compare"}


def typo(word, rng):
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(["dup", "drop", "swap", "dup"])
    if op == "dup":
        return word[:i] + word[i] + word[i:]
    if op == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def with_typo(request, rng):
    ws = request.split(" ")
    idx = [i for i, w in enumerate(ws) if w in TYPO_WORDS]
    if not idx:
        return None
    i = rng.choice(idx)
    ws[i] = typo(ws[i], rng)
    return " ".join(ws)


def split_of(family_id):
    h = int(hashlib.sha256(family_id.encode()).hexdigest()[:8], 16)
    return "val" if h % 5 == 0 else "train"


JOINERS = [" and ", " and then ", ", then ", ", and then ", " then ", ", ", ". then ", " and after that "]


def generate(catalog, seed=7):
    rng = random.Random(seed)
    slots = Slots(catalog, rng)
    rows = []
    seen = set()

    def emit(req, expect, fid, intents, split, slot_texts, clauses=None):
        if req in seen:
            return
        seen.add(req)
        key = "expect_alternatives" if expect and isinstance(expect[0], list) else "expect"
        row = {"request": req, key: expect, "family": fid,
               "intents": intents, "split": split, "slots": slot_texts}
        if clauses:
            row["clauses"] = clauses
        rows.append(row)

    for f in FAMILIES:
        if f["chain"] == "then":
            continue  # "…in it" only makes sense after a clause; chains use them
        intents = f["intents"] or [a["kind"] for a in f["expect"]]
        split = split_of(f["id"])
        for _ in range(f["n"] * 3):
            if sum(1 for r in rows if r["family"] == f["id"]) >= f["n"]:
                break
            req, expect, st = render(f, slots)
            emit(req, expect, f["id"], intents, split, st)
        # Typos in the verbs and the snapshot word, on a third of the families.
        if rng.random() < 0.35:
            req, expect, st = render(f, slots)
            t = with_typo(req, rng)
            if t:
                emit(t, expect, f["id"], intents, split, st)

    # Chains of two or three clauses; a chain's family is its members', and it sits on
    # the side where all its members sit (never across the split).
    by = {"first": [], "then": [], "any": []}
    for f in FAMILIES:
        if f["chain"]:
            by[f["chain"]].append(f)
    for split in ("train", "val"):
        pool = {k: [f for f in v if split_of(f["id"]) == split] for k, v in by.items()}
        for _ in range(500 if split == "train" else 120):
            k = rng.choice([2, 2, 2, 3])
            fams = []
            if rng.random() < 0.6 and pool["first"] and pool["then"]:
                fams.append(rng.choice(pool["first"]))
                fams += [rng.choice(pool["then"] + pool["any"]) for _ in range(k - 1)]
            elif rng.random() < 0.5:
                fams = [rng.choice(pool["any"] + pool["first"]) for _ in range(k)]
            else:
                # "upgrade snapshot 5 and deploy it": "it" is the snapshot named before.
                fams = [rng.choice(pool["any"])] + [rng.choice(pool["then"] + pool["any"]) for _ in range(k - 1)]
            parts, expect, st_all = [], [], []
            made = False
            last_snap = None
            for f in fams:
                if f["chain"] == "first" and made:
                    break
                req, exp, st = render(f, slots)
                if f["chain"] == "then" and not made:
                    # "it" is the snapshot the clause before named, or none at all.
                    for e in exp:
                        if e.get("snapshot") == "new":
                            if last_snap is None:
                                del e["snapshot"]
                            else:
                                e["snapshot"] = last_snap
                parts.append(req)
                expect += exp
                st_all += st
                made = made or f["chain"] == "first"
                for e in exp:
                    if "snapshot" in e and e["snapshot"] != "new":
                        last_snap = e["snapshot"]
            if len(parts) < 2:
                continue
            req = parts[0]
            for i, p in enumerate(parts[1:]):
                j = rng.choice(JOINERS) if i == len(parts) - 2 else rng.choice([", ", " then ", ", then "])
                req += j + p
            intents = [a["kind"] for a in expect]
            if any(a["kind"] == "clarify" for a in expect):
                continue
            emit(req, expect, "chain:" + "+".join(f["id"] for f in fams[: len(parts)]), intents, split, st_all, parts)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--catalog-dbs", nargs="+", default=DEFAULT_DBS)
    ap.add_argument("--out", default=os.path.join(HERE, "generated.jsonl"))
    a = ap.parse_args()
    catalog = read_catalog(a.catalog_dbs)
    rows = generate(catalog)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    os.replace(tmp, a.out)
    n_val = sum(r["split"] == "val" for r in rows)
    fams = {r["family"] for r in rows if not r["family"].startswith("chain:")}
    print(f"generate: {len(rows)} requests ({len(rows) - n_val} train, {n_val} val) from {len(fams)} families -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
