//! `rast-agent`: the rast daemon (`rast agent serve`); see docs/agent.md.

fn main() -> std::process::ExitCode {
    rast_cli::agent_main()
}
