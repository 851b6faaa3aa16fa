//! `deployer logs <stage>`: the functions' log lines, from CloudWatch Logs for a
//! deployed stage or from `.countries/local/logs/` for the local stage.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use crate::cli::{GlobalArgs, LogsArgs};
use crate::error::Result;
use crate::local::processes::LOGS_DIR;
use crate::logs::cloudwatch::{self, CloudWatchLogs};
use crate::logs::format::{self, filter_pattern, parse_since};
use crate::logs::{Function, LogEvent, reader};
use crate::session;

/// How often `--follow` looks for new lines.
const LOCAL_POLL: Duration = Duration::from_millis(500);
const CLOUD_POLL: Duration = Duration::from_secs(2);

/// Prints the selected lines, and with `--follow` keeps printing new ones.
pub fn run(root: &Path, global: &GlobalArgs, args: &LogsArgs) -> Result<()> {
    let stage = session::one_stage(root, &args.stage)?;
    let start_ms = now_ms() - parse_since(&args.since)?.as_millis() as i64;
    let functions = Function::selected(args.function);
    let id = args.request_id.as_deref();
    let color =
        !global.json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut printed = 0usize;
    let mut print = |events: Vec<LogEvent>| {
        let mut out = std::io::stdout().lock();
        for e in &events {
            let line = if global.json {
                e.raw.clone()
            } else {
                format::readable(e, color)
            };
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
        printed += events.len();
    };
    if stage.spec.local.is_some() {
        let dir = root.join(LOGS_DIR);
        let mut offsets = vec![0u64; functions.len()];
        loop {
            let events = reader::read_new(&dir, &functions, &mut offsets)?;
            print(format::select(events, start_ms, id));
            if !args.follow {
                break;
            }
            std::thread::sleep(LOCAL_POLL);
        }
    } else {
        let target = session::target_for(&stage, global);
        let pattern = id.map(filter_pattern);
        session::runtime()?.block_on(async {
            // A stage in its own account: its logs are read as its deploy role there.
            let clients = session::clients(&stage, target, session::Access::Deploy).await?;
            let logs = CloudWatchLogs::new(&clients.stage_config);
            let mut from = start_ms;
            let mut seen: HashSet<(Function, i64, String)> = HashSet::new();
            loop {
                let events =
                    cloudwatch::fetch(&logs, &stage.name, &functions, from, pattern.as_deref())
                        .await?;
                let fresh: Vec<LogEvent> = format::select(events, from, id)
                    .into_iter()
                    .filter(|e| seen.insert((e.function, e.timestamp_ms, e.raw.clone())))
                    .collect();
                if let Some(last) = fresh.iter().map(|e| e.timestamp_ms).max() {
                    // Ask again from the newest time seen; `seen` drops the repeats.
                    from = from.max(last);
                    seen.retain(|(_, ts, _)| *ts >= from);
                }
                print(fresh);
                if !args.follow {
                    break;
                }
                tokio::time::sleep(CLOUD_POLL).await;
            }
            Ok::<(), crate::error::Error>(())
        })?;
    }
    if printed == 0 && !args.follow {
        let what = id.map_or_else(String::new, |id| format!(" of request {id}"));
        session::say(&format!(
            "no log lines{what} in the last {} (widen it with --since, e.g. --since 1d)",
            args.since
        ));
    }
    Ok(())
}

/// The current time in epoch milliseconds (`--since` counts back from it).
pub(crate) fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
