//! `floor serve PORT`: a trivial axum server answering `GET /health` (what the
//! api's cold start is compared with). `floor send URL`: sends one HTTP
//! request to `http://127.0.0.1:PORT/` and exits (what the worker's spawn →
//! first poll is compared with). Both on the same multi-threaded tokio runtime
//! as the functions, built with the same profile (bench/run.py).

use std::process::ExitCode;

use axum::Json;
use axum::routing::get;
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["serve", port] => {
            let Ok(listener) =
                tokio::net::TcpListener::bind(("127.0.0.1", port.parse().unwrap_or(0))).await
            else {
                eprintln!("floor: cannot listen on port {port}");
                return ExitCode::FAILURE;
            };
            let app = axum::Router::new().route("/health", get(|| async { Json(serde_json_ok()) }));
            match axum::serve(listener, app).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("floor: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        ["send", port] => {
            let Ok(mut stream) =
                tokio::net::TcpStream::connect(("127.0.0.1", port.parse().unwrap_or(0))).await
            else {
                eprintln!("floor: cannot connect to port {port}");
                return ExitCode::FAILURE;
            };
            let request = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            match stream.write_all(request.as_bytes()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("floor: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("usage: floor serve PORT | floor send PORT");
            ExitCode::from(2)
        }
    }
}

/// The api's /health body.
fn serde_json_ok() -> std::collections::BTreeMap<&'static str, &'static str> {
    [("status", "ok")].into()
}
