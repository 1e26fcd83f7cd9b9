//! `rewind`: the server (`rewind serve`, the default), local administration (`rewind migrate`)
//! and a command line for a running server's REST API (see `rewind --help`).

use clap::Parser;
use std::process::ExitCode;

use rewind_server::cli::{Cli, run};

#[tokio::main]
async fn main() -> ExitCode {
    run(Cli::parse()).await
}
