//! `offline-upstream`: a REST Countries v3.1-compatible server over the
//! bundled 250-country dataset (MPL-2.0, see app/fixtures/README.md), for
//! the local stage, tests and benchmarks.

use countries::offline_upstream::{Dataset, Faults, router};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

const DATASET: &str = include_str!("../../fixtures/restcountries-v3.1.json");
const USAGE: &str = "usage: offline-upstream [--port N] [--delay-ms N] [--fail-per-mille N] [--stall-per-mille N] [--stall-ms N]

Serves GET /v3.1/alpha/{code} from the bundled dataset on 127.0.0.1 (default port 8081).
The fault options make a share of requests answer 500 or stall, for failure tests;
GET /faults shows them and the request counts, POST /faults?fail_per_mille=0 (and the
other options' names) changes them while it runs.";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let faults = Arc::new(Faults::default());
    let mut port: u16 = 8081;
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Help wins wherever it is (`--help --port 1` must not read --port as --help's value).
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    for pair in args.chunks(2) {
        let [flag, value] = pair else {
            if pair.first().is_some_and(|a| a == "-h" || a == "--help") {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {} needs a value\n{USAGE}", pair[0]);
            return ExitCode::from(2);
        };
        let Ok(n) = value.parse::<u64>() else {
            eprintln!("error: {flag} takes a whole number, got {value:?}");
            return ExitCode::from(2);
        };
        match flag.as_str() {
            "--port" if n <= u64::from(u16::MAX) => port = n as u16,
            "--delay-ms" => faults.delay_ms.store(n, Ordering::SeqCst),
            "--fail-per-mille" if n <= 1000 => faults.fail_per_mille.store(n as u32, Ordering::SeqCst),
            "--stall-per-mille" if n <= 1000 => faults.stall_per_mille.store(n as u32, Ordering::SeqCst),
            "--stall-ms" => faults.stall_ms.store(n, Ordering::SeqCst),
            _ => {
                eprintln!("error: unknown option or value out of range: {flag} {value}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let dataset = match Dataset::from_json(DATASET) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}; choose another port with --port");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    println!("{{\"level\":\"INFO\",\"message\":\"offline upstream listening\",\"url\":\"http://{addr}\",\"countries\":{}}}", dataset.len());
    let served = axum::serve(listener, router(dataset, faults)).with_graceful_shutdown(countries::shutdown::signal());
    match served.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
