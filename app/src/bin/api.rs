//! `api`: the HTTP API. Inside Lambda (`AWS_LAMBDA_RUNTIME_API` set) it is
//! served by `lambda_http`; otherwise on 127.0.0.1:`PORT` (or `--port N`).

use countries::config::ApiConfig;
use countries::sdk::{self, Sdk};
use countries::{api, logging, setup, shutdown};
use std::process::ExitCode;

const USAGE: &str = "usage: api [--port N]\n\nServes the countries API. Configuration comes from environment variables (see docs/contract.md).";

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut port_arg = None;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(p)) => port_arg = Some(p),
            ("-h" | "--help", _) => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("error: unexpected argument {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let config = match ApiConfig::from_lookup(|k| match (k, &port_arg) {
        ("PORT", Some(p)) => Some(p.clone()),
        _ => std::env::var(k).ok(),
    }) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(&config.common.log_level, &config.common.stage);
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Lambda's init phase: the clients are made before the first event.
        let app = api::router(setup::api_state(&config, &Sdk::loaded(sdk::load().await)));
        return match api::serve_lambda(app).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "lambda runtime stopped");
                ExitCode::FAILURE
            }
        };
    }
    // Locally the clients are made on first use, so the api listens at once.
    let app = api::router(setup::api_state(&config, &Sdk::deferred()));
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {e}; choose another port with --port or PORT", config.port);
            return ExitCode::FAILURE;
        }
    };
    let url = listener.local_addr().map(|a| format!("http://{a}")).unwrap_or_default();
    tracing::info!(url, stage = %config.common.stage, "api listening");
    match api::serve_local(listener, app, Box::pin(shutdown::signal())).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server stopped");
            ExitCode::FAILURE
        }
    }
}
