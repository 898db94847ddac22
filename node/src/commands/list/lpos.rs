//! LPOS: the indexes of matching elements, with its RANK, COUNT and MAXLEN options.

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::records::ListRecords;
use super::{lookup_list, parse_positive};
use crate::commands::args::{is_kw, parse_i64};
use crate::commands::{CmdError, Ctx};

/// The options of LPOS.
struct LposArgs {
    /// Which match to start from (negative: counted from the tail); never 0.
    rank: i64,
    /// COUNT: how many matches to return (0: all); None without COUNT.
    count: Option<u64>,
    /// MAXLEN: how many elements to compare at most (0: no limit).
    maxlen: u64,
}

/// Parses `[RANK rank] [COUNT num-matches] [MAXLEN len]`, the options of LPOS.
fn parse_lpos_args(opts: &[Bytes]) -> Result<LposArgs, CmdError> {
    let mut rank: i64 = 1;
    let mut count: Option<u64> = None;
    let mut maxlen: u64 = 0;
    let mut j = 0;
    while j < opts.len() {
        let opt = &opts[j];
        let value = opts.get(j + 1);
        match value {
            Some(v) if is_kw(opt, "RANK") => {
                rank = parse_i64(v)?;
                if rank == i64::MIN {
                    return Err(CmdError::other(format!(
                        "ERR value is out of range, value must between {} and {}",
                        -i64::MAX,
                        i64::MAX
                    )));
                }
                if rank == 0 {
                    return Err(CmdError::other(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                         second ... or use negative to start from the end of the list",
                    ));
                }
            }
            Some(v) if is_kw(opt, "COUNT") => {
                count = Some(parse_positive(v, "ERR COUNT can't be negative")?);
            }
            Some(v) if is_kw(opt, "MAXLEN") => {
                maxlen = parse_positive(v, "ERR MAXLEN can't be negative")?;
            }
            _ => return Err(CmdError::Syntax),
        }
        j += 2;
    }
    Ok(LposArgs {
        rank,
        count,
        maxlen,
    })
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] -> the index of the first
/// match (nil if none) or, with COUNT, an array of the indexes of up to num-matches matches.
pub(super) fn lpos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let element = &argv[2];
    let LposArgs {
        rank,
        count,
        maxlen,
    } = parse_lpos_args(&argv[3..])?;
    let Some(meta) = lookup_list(ctx, &argv[1])? else {
        return Ok(if count.is_some() {
            Frame::Array(Vec::new())
        } else {
            Frame::Null
        });
    };
    let from_tail = rank < 0;
    let rank = rank.unsigned_abs();
    let len = meta.count;
    let records = ListRecords::of(ctx, &argv[1]);
    let start = records.seq_key(meta.head);
    let end = records.seq_key(meta.tail);
    let mut matches: u64 = 0;
    let mut found = Vec::new();
    for (scanned, item) in ctx.ks.txn.range(&start, Some(&end), from_tail).enumerate() {
        let scanned = scanned as u64;
        if maxlen != 0 && scanned >= maxlen {
            break;
        }
        let (_, v) = item?;
        if v.as_ref() != element.as_ref() {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        let index = if from_tail {
            len - scanned - 1
        } else {
            scanned
        };
        found.push(Frame::Integer(index as i64));
        match count {
            None => break,
            Some(c) if c != 0 && found.len() as u64 >= c => break,
            Some(_) => {}
        }
    }
    Ok(match count {
        Some(_) => Frame::Array(found),
        None => found.into_iter().next().unwrap_or(Frame::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testutil::{arr, err, int, TestDb};

    #[test]
    fn lpos_options() {
        let mut db = TestDb::new();
        db.exec(&["rpush", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
        assert_eq!(db.exec(&["lpos", "l", "c"]), int(2));
        assert_eq!(db.exec(&["lpos", "l", "c", "RANK", "2"]), int(6));
        assert_eq!(db.exec(&["lpos", "l", "c", "RANK", "-1"]), int(7));
        assert_eq!(db.exec(&["lpos", "l", "c", "RANK", "-2"]), int(6));
        assert_eq!(
            db.exec(&["lpos", "l", "c", "COUNT", "0"]),
            Frame::Array(vec![int(2), int(6), int(7)])
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "COUNT", "2"]),
            Frame::Array(vec![int(2), int(6)])
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "COUNT", "0", "RANK", "-1"]),
            Frame::Array(vec![int(7), int(6), int(2)])
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "COUNT", "0", "MAXLEN", "7"]),
            Frame::Array(vec![int(2), int(6)])
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "RANK", "-1", "MAXLEN", "1"]),
            int(7)
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "RANK", "-1", "MAXLEN", "1", "RANK", "-4"]),
            Frame::Null
        );
        assert_eq!(db.exec(&["lpos", "l", "x"]), Frame::Null);
        assert_eq!(db.exec(&["lpos", "l", "x", "COUNT", "1"]), arr(&[]));
        assert_eq!(db.exec(&["lpos", "nokey", "x"]), Frame::Null);
        assert_eq!(db.exec(&["lpos", "nokey", "x", "COUNT", "0"]), arr(&[]));
        assert_eq!(
            db.exec(&["lpos", "l", "c", "RANK", "0"]),
            err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "COUNT", "-1"]),
            err("ERR COUNT can't be negative")
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "MAXLEN", "-1"]),
            err("ERR MAXLEN can't be negative")
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "RANK"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "FOO", "1"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.exec(&["lpos", "l", "c", "RANK", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
    }
}
