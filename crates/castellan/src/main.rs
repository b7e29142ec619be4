use castellan::config::{Cli, Command, Config};
use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let cfg = Config::load(&cli.global)?;
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&cfg.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        // Logs on stderr; stdout carries only what is meant for the operator (bootstrap banner).
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli.command {
        Command::Serve => castellan::start(cfg).await?.wait_for_signal().await,
        Command::Migrate => {
            castellan::open_store(&cfg).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}
