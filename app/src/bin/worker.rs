//! `worker`: the SQS worker. Inside Lambda it handles SQS events; locally
//! it long-polls the fetch queue. `worker redrive` moves dead letters back.

use countries::config::WorkerConfig;
use countries::worker::{lambda, poll::Poller, redrive::redrive};
use countries::{logging, sdk, setup, shutdown};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: worker [--until-empty] | worker redrive [--max N]

  worker                 handle SQS events in Lambda, or long-poll QUEUE_URL locally
  worker --until-empty   poll locally until the queue stays empty, then exit
  worker redrive         move messages from DLQ_URL back to QUEUE_URL (default: all, up to 10000)

Configuration comes from environment variables (see docs/contract.md).";

enum Mode {
    Run { until_empty: bool },
    Redrive { max: usize },
}

fn parse_args(args: &[String]) -> Result<Mode, String> {
    match args {
        [] => Ok(Mode::Run { until_empty: false }),
        [flag] if flag == "--until-empty" => Ok(Mode::Run { until_empty: true }),
        [cmd] if cmd == "redrive" => Ok(Mode::Redrive { max: 10_000 }),
        [cmd, flag, n] if cmd == "redrive" && flag == "--max" => {
            n.parse().map(|max| Mode::Redrive { max }).map_err(|_| format!("--max takes a whole number, got {n:?}"))
        }
        other => Err(format!("unexpected arguments {other:?}")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let mode = match parse_args(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match WorkerConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(&config.common.log_level, &config.common.stage);
    let sdk = sdk::load().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    if let Mode::Redrive { max } = mode {
        let Some(dlq) = &config.dlq_url else {
            eprintln!("error: configuration variable DLQ_URL is not set; it names the dead-letter queue to redrive");
            return ExitCode::from(2);
        };
        return match redrive(&sqs, dlq, &config.common.queue_url, max).await {
            Ok(moved) => {
                println!("moved {moved} message(s) from the dead-letter queue back to the fetch queue");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }

    let worker = match setup::worker(&config, &sdk).await {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return match lambda::run(worker).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "lambda runtime stopped");
                ExitCode::FAILURE
            }
        };
    }
    let poller = Poller { sqs, queue_url: config.common.queue_url.clone(), wait: Duration::from_secs(20) };
    tracing::info!(queue = %config.common.queue_url, stage = %config.common.stage, "worker polling");
    if let Mode::Run { until_empty: true } = mode {
        let quick = Poller { wait: Duration::from_secs(1), ..poller };
        return match quick.run_until_idle(&worker, 2).await {
            Ok(n) => {
                tracing::info!(messages = n, "queue empty; stopping");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(error = %e, "polling failed");
                ExitCode::FAILURE
            }
        };
    }
    poller.run(&worker, Box::pin(shutdown::signal())).await;
    tracing::info!("worker stopped");
    ExitCode::SUCCESS
}
