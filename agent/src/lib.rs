//! rast-agent — typed actions, the natural-language planner and the daemon (not built yet).
//!
//! Will own: the `Action`/`Plan` contract between the planner and the executors, the
//! offline planner, the Unix-socket API of `rast-agent`, and the schedulers (index
//! refresh, backups).
