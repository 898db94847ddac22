//! COMMAND and its subcommands: the command table as clients see it (renames applied).

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::help;
use crate::commands::args::{glob_match, is_kw, lower};
use crate::commands::server::CommandCmd;
use crate::commands::table::{command_docs, command_info, command_keys};
use crate::commands::{CmdError, CommandSpec, CommandTable};
use crate::session::Session;

fn command_all(s: &Session) -> Frame {
    Frame::Array(
        s.node
            .table
            .visible()
            .into_iter()
            .map(command_info)
            .collect(),
    )
}

fn find_spec(s: &Session, name: &[u8]) -> Option<&'static CommandSpec> {
    let text = lower(name);
    match text.split_once('|') {
        Some((container, sub)) => {
            let c = s.node.table.lookup(container.as_bytes())?;
            CommandTable::subcommand(c, sub.as_bytes())
        }
        None => s.node.table.lookup(name),
    }
}

/// COMMAND [COUNT | INFO | DOCS | LIST | GETKEYS | HELP] ...
pub fn run(s: &Session, cmd: CommandCmd, argv: &[Bytes]) -> Result<Frame, CmdError> {
    Ok(match cmd {
        CommandCmd::All => command_all(s),
        CommandCmd::Count => Frame::Integer(s.node.table.count() as i64),
        CommandCmd::Info if argv.len() == 2 => command_all(s),
        CommandCmd::Info => Frame::Array(
            argv[2..]
                .iter()
                .map(|n| {
                    find_spec(s, n)
                        .map(command_info)
                        .unwrap_or(Frame::NullArray)
                })
                .collect(),
        ),
        CommandCmd::Docs => docs(s, &argv[2..]),
        CommandCmd::List => list(s, &argv[2..])?,
        CommandCmd::Getkeys => getkeys(s, &argv[2..])?,
        CommandCmd::Help => help(&[
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "HELP",
            "    Print this help.",
        ]),
    })
}

/// COMMAND DOCS [name...]: every visible command's docs when no name is given.
fn docs(s: &Session, names: &[Bytes]) -> Frame {
    let specs: Vec<&CommandSpec> = if names.is_empty() {
        s.node.table.visible()
    } else {
        names.iter().filter_map(|n| find_spec(s, n)).collect()
    };
    let mut pairs = Vec::new();
    for spec in specs {
        if let Frame::Array(mut pair) = command_docs(spec) {
            if pair.len() == 2 {
                let docs = pair.pop().unwrap_or(Frame::Null);
                let n = pair.pop().unwrap_or(Frame::Null);
                pairs.push((n, docs));
            }
        }
    }
    Frame::Map(pairs)
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern].
fn list(s: &Session, args: &[Bytes]) -> Result<Frame, CmdError> {
    let filter = match args {
        [] => None,
        [by, kind, value, ..] if is_kw(by, "FILTERBY") => Some((lower(kind), value.clone())),
        _ => return Err(CmdError::Syntax),
    };
    let all = s
        .node
        .table
        .visible()
        .into_iter()
        .flat_map(|spec| std::iter::once(spec).chain(spec.subcommands.iter()));
    let mut names: Vec<Frame> = Vec::new();
    for spec in all {
        let keep = match &filter {
            None => true,
            Some((kind, v)) if kind == "pattern" => glob_match(v, spec.name.as_bytes(), true),
            Some((kind, v)) if kind == "aclcat" => {
                let cat = lower(v);
                crate::commands::table::acl_categories(spec)
                    .iter()
                    .any(|c| *c == cat)
            }
            Some((kind, _)) if kind == "module" => false,
            Some(_) => return Err(CmdError::Syntax),
        };
        if keep {
            names.push(Frame::bulk(spec.name));
        }
    }
    Ok(Frame::Array(names))
}

/// COMMAND GETKEYS command [arg...]: the key arguments as the command's key specs find them.
fn getkeys(s: &Session, line: &[Bytes]) -> Result<Frame, CmdError> {
    let invalid = || CmdError::other("ERR Invalid command specified");
    let target = s.node.table.lookup(&line[0]).ok_or_else(invalid)?;
    let target = CommandTable::resolve(target, line).map_err(|_| invalid())?;
    if !target.arity_ok(line.len()) {
        return Err(CmdError::other(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let keys = command_keys(target, line);
    if keys.is_empty() {
        return Err(CmdError::other("ERR The command has no key arguments"));
    }
    Ok(Frame::Array(keys.into_iter().map(Frame::Bulk).collect()))
}
