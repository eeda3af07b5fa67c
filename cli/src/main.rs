//! `rast`: see the crate library (`cli/src/lib.rs`) for the module map and exit codes.

fn main() -> std::process::ExitCode {
    rast_cli::main()
}
