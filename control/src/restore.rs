//! The life of a restore, in one place (SPEC §4): the restorable window, the plan (options →
//! what will be restored, with its statistics; a dry run is a plan that is shown and not
//! filed), the job (filed, requested, approved or rejected, claimed under a lease, run, finished
//! or failed) and the runner's step.
//!
//! Who may do what is decided in [`operations`], the entry point of portal and REST callers
//! (it checks the caller's roles and audits the request); the rest acts for an already
//! authorized [`Requester`].

mod job;
pub mod operations;
mod plan;
mod run;
mod window;

pub use job::{NOT_RESTORED, Requester, backup_error, decide, file};
pub use plan::{Options, Plan, PlanStats, Target, plan};
pub use run::{MAX_PER_SOURCE, Outcome, claim, step};
pub use window::{check_window, oldest_restorable, periodic_backups, periodic_backups_until, periodic_retention, window};
