//! The command line: `[--reps N] [--only kill,pause,isolate,transfer,rtt150]`.

use crate::fault::Fault;

pub struct Args {
    pub reps: usize,
    pub faults: Vec<Fault>,
}

pub const USAGE: &str = "usage: failover [--reps N] [--only kill,pause,isolate,transfer,rtt150]";

pub fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        reps: 5,
        faults: Fault::ALL.to_vec(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match name.as_str() {
            "--reps" => {
                let v = value()?;
                args.reps = v
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("--reps takes a positive number, not {v:?}"))?;
            }
            "--only" => {
                let v = value()?;
                let mut faults = Vec::new();
                for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let f = Fault::parse(part).ok_or_else(|| {
                        format!("unknown fault {part:?} (known: kill, pause, isolate, transfer, rtt150)")
                    })?;
                    if !faults.contains(&f) {
                        faults.push(f);
                    }
                }
                if faults.is_empty() {
                    return Err(format!("--only needs at least one fault\n{USAGE}"));
                }
                args.faults = faults;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}")),
        }
    }
    Ok(args)
}
