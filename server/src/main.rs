//! `rewind`: load the configuration, build the application, serve until a signal arrives.

use anyhow::Context;
use rewind_server::{Application, Settings, telemetry};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load().context("loading configuration")?;
    telemetry::init(&settings.log);
    let app = Application::build(settings).await.context("starting Rewind")?;

    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            telemetry::wait_for_signal().await;
            shutdown.cancel();
        }
    });
    app.run_until_stopped(shutdown).await
}
