//! rast-agent — typed actions, the offline natural-language planner, and the daemon.
//!
//! - [`action`]: the `Action`/`Plan` contract (../shared/DESIGN.md "Typed actions")
//!   between planners (offline rules, an optional LLM) and the executors in `cli`;
//!   every plan is validated by the same code whatever produced it.
//! - [`plan`]: the offline planner; package names resolve through the catalogue and
//!   the hybrid index, never raw user text.
//!
//! Invariant: nothing here runs anything. Executing a plan is the CLI's job, through
//! the same code paths as the explicit commands.

pub mod action;
pub mod plan;

pub use action::{Action, Plan};
pub use plan::Planner;
