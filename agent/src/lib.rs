//! rast-agent — typed actions, the offline natural-language planner, and the daemon.
//!
//! - [`action`]: the `Action`/`Plan` contract (../shared/DESIGN.md "Typed actions")
//!   between planners (offline rules, an optional LLM) and the executors in `cli`;
//!   every plan is validated by the same code whatever produced it.
//! - [`plan`]: the offline planner; package names resolve through the catalogue and
//!   the hybrid index, never raw user text.
//!
//! - [`warm`]: an index opened for planning (catalogue + searcher), shared by the
//!   CLI's in-process planner and the daemon; [`llm`]: the optional LLM backend.
//! - [`proto`], [`client`], [`daemon`]: rast-agent's socket protocol, the CLI's
//!   client, and the daemon itself.
//! - [`eval`]: score.py's matching of a plan against a labelled request, in process
//!   (evaluation tools and tests only).
//!
//! Invariant: nothing here executes a plan. Executing is the CLI's job, through the
//! same code paths as the explicit commands; the daemon only runs the explicit
//! `rast index build` / `rast backup run` commands as child processes.

pub mod action;
pub mod client;
pub mod daemon;
pub mod eval;
pub mod llm;
pub mod plan;
pub mod proto;
pub mod warm;

pub use action::{Action, Plan};
pub use plan::Planner;
