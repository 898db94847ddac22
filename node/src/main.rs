//! `redoubt`: start a node. `redoubt [--config FILE] [--directive value]...`

use std::process::ExitCode;
use std::sync::Mutex;

use redoubt_node::config::{env_overrides, parse_args, Config};
use redoubt_node::server::Server;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{reload, EnvFilter};

const USAGE: &str = "Usage: redoubt [--config FILE] [--<directive> <value>]...

Starts a Redoubt node. Directives use Redis's names (port, bind, dir, logfile,
loglevel, maxclients, timeout, proto-max-bulk-len, protected-mode, rename-command,
enable-debug-command, ...). Layers: defaults < config file (TOML) < REDOUBT_<NAME>
environment variables < command-line flags.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("redoubt {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let config = match parse_args(&args)
        .and_then(|(file, flags)| Config::load(file.as_deref(), &env_overrides(), &flags))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("redoubt: {e}");
            return ExitCode::from(1);
        }
    };
    let set_filter = match init_logging(&config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("redoubt: {e}");
            return ExitCode::from(1);
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = std::env::var("REDOUBT_WORKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        builder.worker_threads(n.max(1));
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("redoubt: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(config, set_filter)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("redoubt: {e:#}");
            ExitCode::from(1)
        }
    }
}

type SetFilter = Box<dyn Fn(&str) + Send + Sync>;

/// tracing to stderr or `logfile`, at `loglevel`; the returned closure changes the level.
fn init_logging(config: &Config) -> Result<SetFilter, String> {
    let filter = EnvFilter::try_new(config.loglevel.filter()).map_err(|e| e.to_string())?;
    let (filter, handle) = reload::Layer::new(filter);
    let registry = tracing_subscriber::registry().with(filter);
    if config.logfile.is_empty() {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(false),
            )
            .try_init()
            .map_err(|e| e.to_string())?;
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)
            .map_err(|e| format!("invalid value for 'logfile': '{}' ({e})", config.logfile))?;
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(Mutex::new(file))
                    .with_ansi(false),
            )
            .try_init()
            .map_err(|e| e.to_string())?;
    }
    Ok(Box::new(move |spec: &str| {
        if let Ok(f) = EnvFilter::try_new(spec) {
            let _ = handle.reload(f);
        }
    }))
}

async fn run(config: Config, set_filter: SetFilter) -> anyhow::Result<()> {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        port = config.port,
        dir = %config.dir.display(),
        node_id = config.node_id,
        "starting redoubt"
    );
    let server = Server::start(config, None, None, set_filter).await?;
    let serving = tokio::spawn(server.clone().serve());
    let waiting = server.clone();
    tokio::spawn(async move {
        if !waiting
            .raft
            .wait_for_leader(std::time::Duration::from_secs(10))
            .await
        {
            tracing::warn!("no raft leader after 10s; writes answer TRYAGAIN until there is one");
        }
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = serving => { r??; }
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, shutting down"),
        _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
    }
    server.raft.shutdown().await;
    tracing::info!("bye");
    Ok(())
}
