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
pub fn run(s: &Session, cmd: CommandCmd, argv: &[Bytes]) -> Frame {
    match cmd {
        CommandCmd::All => command_all(s),
        CommandCmd::Count => Frame::Integer(s.node.table.count() as i64),
        CommandCmd::Info => {
            if argv.len() == 2 {
                return command_all(s);
            }
            Frame::Array(
                argv[2..]
                    .iter()
                    .map(|n| {
                        find_spec(s, n)
                            .map(command_info)
                            .unwrap_or(Frame::NullArray)
                    })
                    .collect(),
            )
        }
        CommandCmd::Docs => {
            let specs: Vec<&CommandSpec> = if argv.len() == 2 {
                s.node.table.visible()
            } else {
                argv[2..].iter().filter_map(|n| find_spec(s, n)).collect()
            };
            let mut pairs = Vec::new();
            for s in specs {
                if let Frame::Array(mut pair) = command_docs(s) {
                    if pair.len() == 2 {
                        let docs = pair.pop().unwrap_or(Frame::Null);
                        let n = pair.pop().unwrap_or(Frame::Null);
                        pairs.push((n, docs));
                    }
                }
            }
            Frame::Map(pairs)
        }
        CommandCmd::List => {
            let mut names: Vec<Frame> = Vec::new();
            let filter = if argv.len() >= 5 && is_kw(&argv[2], "FILTERBY") {
                Some((lower(&argv[3]), argv[4].clone()))
            } else if argv.len() > 2 {
                return CmdError::Syntax.to_frame();
            } else {
                None
            };
            let all = s
                .node
                .table
                .visible()
                .into_iter()
                .flat_map(|s| std::iter::once(s).chain(s.subcommands.iter()));
            for s in all {
                let keep = match &filter {
                    None => true,
                    Some((kind, v)) if kind == "pattern" => glob_match(v, s.name.as_bytes(), true),
                    Some((kind, v)) if kind == "aclcat" => {
                        let cat = lower(v);
                        crate::commands::table::acl_categories(s)
                            .iter()
                            .any(|c| *c == cat)
                    }
                    Some((kind, _)) if kind == "module" => false,
                    Some(_) => return CmdError::Syntax.to_frame(),
                };
                if keep {
                    names.push(Frame::bulk(s.name));
                }
            }
            Frame::Array(names)
        }
        CommandCmd::Getkeys => {
            let Some(target) = s.node.table.lookup(&argv[2]) else {
                return Frame::error("ERR Invalid command specified");
            };
            let line = &argv[2..];
            let Ok(target) = CommandTable::resolve(target, line) else {
                return Frame::error("ERR Invalid command specified");
            };
            if !target.arity_ok(line.len()) {
                return Frame::error("ERR Invalid number of arguments specified for command");
            }
            let keys = command_keys(target, line);
            if keys.is_empty() {
                return Frame::error("ERR The command has no key arguments");
            }
            Frame::Array(keys.into_iter().map(Frame::Bulk).collect())
        }
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
    }
}
