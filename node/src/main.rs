//! `redoubt`: start a node. `redoubt [--config FILE] [--directive value]...`

use std::process::ExitCode;
use std::sync::Mutex;

use redoubt_node::config::{env_overrides, parse_args, Config};
use redoubt_node::tls::TlsConfig;
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
    if args.first().map(String::as_str) == Some("certs") {
        return ExitCode::from(redoubt_node::certs::run(&args[1..]));
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("redoubt {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    // Before anything creates a file (the logfile, sled, snapshots): private by default.
    redoubt_node::files::restrict_umask();
    let config = match parse_args(&args)
        .and_then(|(file, flags)| Config::load(file.as_deref(), &env_overrides(), &flags))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("redoubt: {e}");
            return ExitCode::from(1);
        }
    };
    // TLS directives are validated with the rest of the configuration: one line, exit 1.
    let tls_config = match TlsConfig::from_directives(|name| config.raw_value(name))
        .and_then(|t| t.validate().map(|()| t))
    {
        Ok(t) => t,
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
    match runtime.block_on(redoubt_node::app::run(config, tls_config, set_filter)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("redoubt: {e:#}");
            ExitCode::from(1)
        }
    }
}

use redoubt_node::app::SetLogFilter;

/// tracing to stderr or `logfile`, at `loglevel`; the returned closure changes the level.
fn init_logging(config: &Config) -> Result<SetLogFilter, String> {
    let filter = EnvFilter::try_new(config.loglevel.filter()).map_err(|e| e.to_string())?;
    let (filter, handle) = reload::Layer::new(filter);
    let registry = tracing_subscriber::registry().with(filter);
    if config.logfile.is_empty() {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(false)
                    .with_filter(tracing_subscriber::filter::dynamic_filter_fn(|meta, _| {
                        redoubt_node::logsafe::library_flood_filter(meta)
                    })),
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
                    .with_ansi(false)
                    .with_filter(tracing_subscriber::filter::dynamic_filter_fn(|meta, _| {
                        redoubt_node::logsafe::library_flood_filter(meta)
                    })),
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
